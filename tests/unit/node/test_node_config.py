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
    assert (layout.root / "tsa-ca.pem").exists() and (layout.root / "tsa-ca.key").exists()
    assert not (layout.key_dir / "tsa-ca.key").exists()  # not among the account keys
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
    with pytest.raises(ConfigError, match=r"config\.toml: unknown key \[tsa\] extra$"):
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


KEY_A, KEY_B, KEY_C = b"\xaa" * 32, b"\xbb" * 32, b"\xcc" * 32


def test_observers_are_read_and_added_without_touching_the_rest(tmp_path: Path) -> None:
    from xinlian.node.config import allow_observer

    home = create_network(tmp_path / "net").node_homes[0]
    before = (home / "config.toml").read_text()
    assert load_config(home).p2p.observers == ()
    assert allow_observer(home, KEY_A) and allow_observer(home, KEY_B)
    assert not allow_observer(home, KEY_A)  # already there
    config = load_config(home)
    assert config.p2p.observers == (KEY_A, KEY_B)
    assert config.p2p.peers == () and config.api.port == load_config(home).api.port
    after = (home / "config.toml").read_text()
    assert after.replace(f'  "{KEY_A.hex()}",\n  "{KEY_B.hex()}",\n', "") == before


@pytest.mark.parametrize(
    "p2p_table",
    [
        'observers = ["' + KEY_A.hex() + '"]',  # a one-line list an operator wrote
        'observers = ["' + KEY_A.hex() + '", ]',
        "",  # a config from before observers existed
    ],
)
def test_allow_observer_handles_hand_written_configs(tmp_path: Path, p2p_table: str) -> None:
    from xinlian.node.config import allow_observer

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[node]\nname = "n"\n\n[p2p]\nport = 26700\n{p2p_table}\n\n[consensus]\n'
        "timeout_propose_ms = 4000\n"
    )
    had = load_config(home).p2p.observers
    assert allow_observer(home, KEY_C)
    config = load_config(home)
    assert config.p2p.observers == (*had, KEY_C)
    assert config.p2p.port == 26700 and config.consensus.timeout_propose_ms == 4000


@pytest.mark.parametrize(
    "value",
    ['"' + "aa" * 32 + '"', '["abc"]', '["' + "zz" * 32 + '"]', "[1]", '["' + "aa" * 33 + '"]'],
)
def test_bad_observers_are_refused(tmp_path: Path, value: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(f"[p2p]\nobservers = {value}\n")
    with pytest.raises(ConfigError, match=r"p2p\.observers must be a list of p2p keys"):
        load_config(home)
