"""config.toml is decoded once into typed structs: misspelt keys and tables are refused,
wrong types and out-of-range values are named, and files ``xinlian init`` wrote load."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from xinlian.consensus import Timeouts
from xinlian.node.config import (
    ApiConfig,
    ConfigError,
    ConsensusConfig,
    NodeConfig,
    load_config,
    render_config,
)
from xinlian.node.network import create_network


def _load(tmp_path: Path, text: str) -> NodeConfig:
    (tmp_path / "config.toml").write_text(text)
    return load_config(tmp_path)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message  # the CLI prints it as one line
    prefix = f"{tmp_path / 'config.toml'}: "
    assert message.startswith(prefix)
    return message[len(prefix) :]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[api]\nmax_conections = 5\n", "unknown key [api] max_conections"),
        ("[node]\nblock_intervall_ms = 5\n", "unknown key [node] block_intervall_ms"),
        ("[consensus]\ntimeout_propose = 5\n", "unknown key [consensus] timeout_propose"),
        ("[p2p]\npeer = []\n", "unknown key [p2p] peer"),
        ("[tsa]\nextra = 'x'\n", "unknown key [tsa] extra"),
        ("[node]\nhome = '/elsewhere'\n", "unknown key [node] home"),  # not a file key
        ("[node.api]\nport = 1\n", "unknown key [node] api"),
    ],
)
def test_unknown_keys_are_refused_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert _error(tmp_path, text) == expected


def test_unknown_tables_and_keys_outside_tables_are_refused(tmp_path: Path) -> None:
    known = "known tables: [node], [api], [p2p], [consensus], [tsa]"
    assert _error(tmp_path, "[apii]\nport = 1\n") == f"unknown table [apii]; {known}"
    assert _error(tmp_path, "port = 1\n") == f"unknown key port (outside any table); {known}"
    assert _error(tmp_path, "api = 1\n") == "[api] must be a table"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[api]\nport = "8545"\n', "[api] port must be an integer between 0 and 65535, got '8545'"),
        ("[api]\nport = 8545.0\n", "[api] port must be an integer between 0 and 65535, got 8545.0"),
        (
            "[node]\nmempool_size = true\n",
            "[node] mempool_size must be an integer between 1 and 10000000, got True",
        ),
        ("[api]\nhost = 1\n", "[api] host must be a string, got 1"),
        ("[node]\nname = [1]\n", "[node] name must be a string, got [1]"),
        ('[tsa]\ncert = ""\n', "[tsa] cert must be a non-empty path string, got ''"),
        (
            "[consensus]\ntimeout_delta_ms = -1\n",
            "[consensus] timeout_delta_ms must be an integer between 0 and 600000, got -1",
        ),
        ('[p2p]\npeers = "x"\n', 'p2p.peers must be a list of "<key>@<host>:<port>" strings'),
        (
            '[p2p]\npeers = ["nope"]\n',
            "peer 'nope' must be <64 hex digits of the p2p key>@<host>:<port>",
        ),
    ],
)
def test_wrong_types_and_ranges_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert _error(tmp_path, text) == expected


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        _load(tmp_path, "[api\n")


def test_configs_written_by_init_load_unchanged(tmp_path: Path) -> None:
    layout = create_network(tmp_path / "net", nodes=3)
    ports = set()
    for i, home in enumerate(layout.node_homes):
        config = load_config(home)
        assert config.home == home and config.name == f"node{i}"
        assert len(config.p2p.peers) == 2 and config.p2p.observers == ()
        assert config.consensus == ConsensusConfig() and config.tsa.cert == "tsa/tsa.pem"
        ports.add(config.api.port)
    assert len(ports) == 3


def test_render_config_round_trips_to_the_defaults(tmp_path: Path) -> None:
    config = _load(tmp_path, render_config("n", 8545))
    defaults = NodeConfig(home=tmp_path, name="n")
    assert config == defaults


def test_the_consensus_timeout_defaults_are_the_machines() -> None:
    t, c = Timeouts(), ConsensusConfig()
    assert (c.timeout_propose_ms, c.timeout_prevote_ms, c.timeout_precommit_ms) == (
        t.propose_ms,
        t.prevote_ms,
        t.precommit_ms,
    )
    assert c.timeout_delta_ms == t.propose_delta_ms == t.prevote_delta_ms == t.precommit_delta_ms


def test_the_structs_are_frozen_and_replaceable() -> None:
    api = ApiConfig()
    with pytest.raises(AttributeError):
        api.port = 1  # type: ignore[misc]
    assert msgspec.structs.replace(api, port=1).port == 1 and api.port == 8545
