"""config.toml: the block gas budget, and the ``[tsa]`` section (generated defaults and
operator-provided files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinlian.crypto.timestamp import load_tsa
from xinlian.node.config import DEFAULT_BLOCK_GAS_BUDGET, ConfigError, load_config
from xinlian.node.network import create_network


def test_network_creation_issues_a_tsa_per_node(tmp_path: Path) -> None:
    layout = create_network(tmp_path / "net", nodes=2)
    assert (layout.root / "tsa-ca.pem").exists() and (layout.key_dir / "tsa-ca.key").exists()
    subjects = set()
    for home in layout.node_homes:
        config = load_config(home)
        tsa = load_tsa(*config.tsa_paths())
        assert tsa.chain_pem() == (layout.root / "tsa-ca.pem").read_bytes()
        assert (home / "tsa" / "tsa.key").stat().st_mode & 0o077 == 0
        subjects.add(tsa.cert.subject.rfc4514_string())
    assert len(subjects) == 2


def test_operator_provided_tsa_paths(tmp_path: Path) -> None:
    layout = create_network(tmp_path / "net")
    home = layout.node_homes[0]
    own = tmp_path / "own"
    (home / "tsa").rename(own)
    config = home / "config.toml"
    config.write_text(
        config.read_text()
        + f'\n[tsa]\ncert = "{own}/tsa.pem"\nkey = "{own}/tsa.key"\nchain = "{own}/ca.pem"\n'
    )
    assert load_tsa(*load_config(home).tsa_paths()).cert is not None
    config.write_text(config.read_text() + 'extra = "x"\n')
    with pytest.raises(ConfigError, match="unknown \\[tsa\\] keys"):
        load_config(home)


def test_block_gas_budget(tmp_path: Path) -> None:
    home = create_network(tmp_path / "net", nodes=1).node_homes[0]
    assert load_config(home).block_gas_budget == DEFAULT_BLOCK_GAS_BUDGET
    config = home / "config.toml"
    text = config.read_text()
    assert f"block_gas_budget = {DEFAULT_BLOCK_GAS_BUDGET}" in text
    config.write_text(text.replace(f"= {DEFAULT_BLOCK_GAS_BUDGET}", "= 5000000"))
    assert load_config(home).block_gas_budget == 5_000_000
    config.write_text(text.replace(f"= {DEFAULT_BLOCK_GAS_BUDGET}", "= 10"))
    with pytest.raises(ConfigError, match="block_gas_budget"):
        load_config(home)
