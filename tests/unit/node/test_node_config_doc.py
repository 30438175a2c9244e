"""docs/config.md documents exactly the keys of the config structs, with their types,
defaults and ranges: its tables are what ``tools/config_doc.py`` generates from them."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from xinlian.node.config import ConfigError, NodeConfig, config_keys, load_config

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "config.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|([^|]*)\| ([^|]+) \|$")


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("config_doc", ROOT / "tools" / "config_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def doc_rows() -> dict[tuple[str, str], tuple[str, str, str]]:
    """(section, key) -> (type, default, range) from the tables of docs/config.md."""
    rows: dict[tuple[str, str], tuple[str, str, str]] = {}
    section = None
    for line in DOC.read_text().splitlines():
        heading = re.match(r"^## `\[([a-z0-9]+)\]`$", line)
        if heading:
            section = heading.group(1)
            continue
        m = ROW.match(line)
        if m and section is not None:
            rows[(section, m.group(1))] = (m.group(2).strip(), m.group(3).strip(), m.group(4))
    return rows


def _section(config: NodeConfig, section: str) -> Any:
    return config if section == "node" else getattr(config, section)


def _write(home: Path, section: str, key: str, value: Any) -> None:
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(f"[{section}]\n{key} = {value!r}\n")


def test_the_committed_page_is_the_generated_one() -> None:
    text = DOC.read_text()
    assert _tool().render(text) == text, "run: python tools/config_doc.py"


def test_the_generator_notices_a_stale_table() -> None:
    text = DOC.read_text()
    stale = text.replace("| `port` | integer | `8545` | 0 to 65535 |", "| `port` | integer | `1` |")
    assert stale != text and _tool().render(stale) == text


def test_every_key_of_the_structs_is_documented_and_nothing_else() -> None:
    assert set(doc_rows()) == {(k.section, k.name) for k in config_keys()}


def test_documented_defaults_and_types_are_what_the_loader_gives(tmp_path: Path) -> None:
    config = load_config(tmp_path)  # no config.toml: every default
    for (section, key), (kind, default, _) in doc_rows().items():
        value = getattr(_section(config, section), key)
        if key == "name":
            assert value == tmp_path.name and "home directory" in default
            continue
        assert default.startswith("`") and default.endswith("`"), (section, key, default)
        documented = tomllib.loads(f"v = {default.strip('`')}")["v"]
        if isinstance(value, tuple):
            value = list(value)
        assert value == documented, (section, key)
        expected = {
            bool: "boolean",
            int: "integer",
            str: "path string" if section == "tsa" else "string",
            list: "list of strings",
        }[type(documented)]
        assert kind == expected, (section, key)


RANGES = [
    (s, k, int(m.group(1)), int(m.group(2)))
    for (s, k), (_, _, r) in doc_rows().items()
    if (m := re.match(r"^(\d+) to (\d+)$", r.strip()))
]


def test_every_integer_key_has_a_documented_range() -> None:
    ints = {(k.section, k.name) for k in config_keys() if k.type is int}
    assert {(s, k) for s, k, _, _ in RANGES} == ints and len(ints) > 20


@pytest.mark.parametrize(("section", "key", "lo", "hi"), RANGES)
def test_documented_ranges_are_enforced(
    tmp_path: Path, section: str, key: str, lo: int, hi: int
) -> None:
    home = tmp_path / "home"
    for ok in (lo, hi):
        _write(home, section, key, ok)
        assert getattr(_section(load_config(home), section), key) == ok
    for bad in (lo - 1, hi + 1):
        _write(home, section, key, bad)
        with pytest.raises(ConfigError) as info:
            load_config(home)
        assert str(info.value) == (
            f"{home / 'config.toml'}: [{section}] {key} must be an integer between {lo} and"
            f" {hi}, got {bad}"
        )


def test_the_example_loads_and_uses_documented_keys(tmp_path: Path) -> None:
    example = re.search(r"```toml\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    text = example.group(1)
    used = {(s, k) for s, table in tomllib.loads(text).items() for k in table}
    assert used <= set(doc_rows())
    (tmp_path / "config.toml").write_text(text)
    config = load_config(tmp_path)
    assert config.name == "node0" and len(config.p2p.peers) == 1
