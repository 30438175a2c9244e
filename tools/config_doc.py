"""Write the key tables of docs/config.md from the config structs (xinlian.node.config).

Usage: ``python tools/config_doc.py`` rewrites docs/config.md in place; ``--check`` only
reports (exit 1) when the committed page differs from what the structs say. The prose
around the tables is kept; each table under a ``## `[section]` `` heading is replaced.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from xinlian.node.config import ConfigKey, config_keys

DOC = Path(__file__).resolve().parents[1] / "docs" / "config.md"
HEADING = re.compile(r"^## `\[([a-z0-9]+)\]`$")
HEADER = ("| key | type | default | range | meaning |", "|---|---|---|---|---|")


def _type(key: ConfigKey) -> str:
    if key.type is int:
        return "integer"
    if key.type is str:
        return "path string" if key.section == "tsa" else "string"
    return "list of strings"


def _default(key: ConfigKey) -> str:
    if (key.section, key.name) == ("node", "name"):
        return "the home directory's name"
    if isinstance(key.default, str):
        return f'`"{key.default}"`'
    if isinstance(key.default, tuple):
        return "`[]`" if not key.default else f"`{list(key.default)}`"
    return f"`{key.default}`"


def row(key: ConfigKey) -> str:
    """One table row: key, type, default, range, meaning."""
    bounds = f" {key.lo} to {key.hi} " if key.lo is not None and key.hi is not None else " "
    return f"| `{key.name}` | {_type(key)} | {_default(key)} |{bounds}| {key.meaning} |"


def tables() -> dict[str, list[str]]:
    """The table lines of each section."""
    out: dict[str, list[str]] = {}
    for key in config_keys():
        out.setdefault(key.section, list(HEADER)).append(row(key))
    return out


def render(text: str) -> str:
    """``text`` (docs/config.md) with every section's table regenerated."""
    generated = tables()
    lines = text.splitlines()
    out: list[str] = []
    section: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = HEADING.match(line)
        if heading:
            section = heading.group(1)
        if line.startswith("| key |") and section in generated:
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            out.extend(generated.pop(section))
            continue
        out.append(line)
        i += 1
    if generated:
        raise SystemExit(f"docs/config.md has no table for {sorted(generated)}")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = DOC.read_text()
    new = render(text)
    if "--check" in argv:
        if new != text:
            print("docs/config.md is out of date: run python tools/config_doc.py")
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
