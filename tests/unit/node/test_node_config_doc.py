"""docs/config.md documents exactly the keys ``load_config`` reads, with the code's
types, defaults and ranges."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from xinlian.node.config import (
    ApiConfig,
    ConfigError,
    ConsensusConfig,
    NodeConfig,
    P2PConfig,
    TsaConfig,
    load_config,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "config.md"
SECTIONS: dict[str, type] = {
    "node": NodeConfig,
    "api": ApiConfig,
    "p2p": P2PConfig,
    "consensus": ConsensusConfig,
    "tsa": TsaConfig,
}
ROW = re.compile(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|([^|]*)\| ([^|]+) \|$")
RANGE = re.compile(r"^(\d+) to (\d+)$")


def code_keys() -> set[tuple[str, str]]:
    """(section, key) of every key the loader reads: the fields of the config records."""
    keys = set()
    for section, record in SECTIONS.items():
        for f in dataclasses.fields(record):
            if record is NodeConfig and (f.name == "home" or f.name in SECTIONS):
                continue
            keys.add((section, f.name))
    return keys


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


def test_every_key_the_loader_reads_is_documented_and_nothing_else() -> None:
    assert set(doc_rows()) == code_keys()


def test_documented_defaults_and_types_are_the_codes(tmp_path: Path) -> None:
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


@pytest.mark.parametrize(
    ("section", "key", "lo", "hi"),
    [
        (s, k, int(m.group(1)), int(m.group(2)))
        for (s, k), (_, _, r) in doc_rows().items()
        if (m := RANGE.match(r.strip()))
    ],
)
def test_documented_ranges_are_enforced(
    tmp_path: Path, section: str, key: str, lo: int, hi: int
) -> None:
    home = tmp_path / "home"
    for ok in (lo, hi):
        _write(home, section, key, ok)
        assert getattr(_section(load_config(home), section), key) == ok
    for bad in (lo - 1, hi + 1):
        _write(home, section, key, bad)
        with pytest.raises(ConfigError, match=f"{key} must be an integer between {lo} and {hi}"):
            load_config(home)


def test_the_example_loads_and_uses_documented_keys(tmp_path: Path) -> None:
    example = re.search(r"```toml\n(.*?)```", DOC.read_text(), re.S)
    assert example is not None
    text = example.group(1)
    used = {(s, k) for s, table in tomllib.loads(text).items() for k in table}
    assert used <= set(doc_rows())
    (tmp_path / "config.toml").write_text(text)
    config = load_config(tmp_path)
    assert config.name == "node0" and len(config.p2p.peers) == 1
