"""``xinlian init`` and ``xinlian keys``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from xinlian.cli.main import cli
from xinlian.crypto import address_of, get_suite
from xinlian.node.chain import load_genesis
from xinlian.node.config import load_config
from xinlian.node.network import create_network
from xinlian.sdk import read_key_file


@pytest.mark.parametrize("crypto", ["ed25519", "sm"])
def test_init_creates_a_network(tmp_path: Path, crypto: str) -> None:
    root = tmp_path / "net"
    result = CliRunner().invoke(
        cli,
        [
            "init",
            str(root),
            "--crypto",
            crypto,
            "--orgs",
            "bank,port",
            "--chain-id",
            "c9",
            "--port",
            "9100",
        ],
    )
    assert result.exit_code == 0, result.output
    assert str(root / "node0") in result.output and str(root / "keys") in result.output
    genesis = load_genesis((root / "genesis.json").read_bytes())
    assert genesis.chain_id == "c9" and genesis.suite == crypto
    assert [o.id for o in genesis.orgs] == ["bank", "port"]
    assert len(genesis.validators) == 1
    assert load_config(root / "node0").api.port == 9100
    names = sorted(p.name for p in (root / "keys").glob("*.key"))
    assert "bank-writer.key" in names and "port-admin.key" in names
    keypair, _ = read_key_file(root / "keys" / "bank-writer.key")
    assert keypair.suite == crypto
    assert (root / "keys" / "bank-writer.key").stat().st_mode & 0o777 == 0o600


def test_init_for_separate_machines(tmp_path: Path) -> None:
    root = tmp_path / "net"
    hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.2"]
    result = CliRunner().invoke(
        cli, ["init", str(root), "--crypto", "sm", "--nodes", "3", "--hosts", ",".join(hosts)]
    )
    assert result.exit_code == 0, result.output
    genesis = load_genesis((root / "genesis.json").read_bytes())
    assert [v.name for v in genesis.validators] == ["node0", "node1", "node2"]
    configs = [load_config(root / f"node{i}") for i in range(3)]
    p2p_keys = []
    for i, config in enumerate(configs):
        assert config.api.host == "0.0.0.0" and config.p2p.host == "0.0.0.0"
        p2p_key = read_key_file(root / f"node{i}" / "p2p.key")[0]
        assert p2p_key.suite == "ed25519"  # transport keys are Ed25519 on every chain
        assert genesis.validators[i].p2p_key == p2p_key.public_key.hex()
        signing = read_key_file(root / f"node{i}" / "node.key")[0]
        assert genesis.validators[i].public_key == signing.public_key.hex()
        p2p_keys.append(p2p_key.public_key)
    # Two nodes share 10.0.0.2, so the second of them counts its ports up.
    assert [c.p2p.port for c in configs] == [26656, 26656, 26657]
    assert [c.api.port for c in configs] == [8545, 8545, 8546]
    # Each node dials every other at its host and pins its transport key.
    for i, config in enumerate(configs):
        expected = {(p2p_keys[j], hosts[j], configs[j].p2p.port) for j in range(3) if j != i}
        assert {(p.public_key, p.host, p.port) for p in config.p2p.peers} == expected
    for bad, message in [("a,b", "2 addresses for 3 nodes"), ("a,b:1,c", "not a host name")]:
        result = CliRunner().invoke(
            cli, ["init", str(tmp_path / "bad"), "--nodes", "3", "--hosts", bad]
        )
        assert result.exit_code == 1 and message in result.output, result.output


def test_init_refuses_to_overwrite_and_validates_orgs(tmp_path: Path) -> None:
    root = tmp_path / "net"
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    before = (root / "genesis.json").read_bytes()
    again = CliRunner().invoke(cli, ["init", str(root)])
    assert again.exit_code == 1
    assert "error:" in again.output and "already holds a network" in again.output
    assert (root / "genesis.json").read_bytes() == before
    for orgs, message in [(",", "at least one"), ("a,a", "twice"), ("bad-id", "letters")]:
        result = CliRunner().invoke(cli, ["init", str(tmp_path / "n2"), "--orgs", orgs])
        assert result.exit_code == 1 and message in result.output
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("")
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "busy")])
    assert result.exit_code == 1 and "not empty" in result.output


def test_keys_new_show_list(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "alice.key"
    result = runner.invoke(cli, ["keys", "new", "alice", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    keypair, name = read_key_file(out)
    assert name == "alice" and info["public_key"] == keypair.public_key.hex()
    assert info["address"] == address_of(get_suite("ed25519"), keypair.public_key)
    assert "private" not in result.output

    again = runner.invoke(cli, ["keys", "new", "alice", "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert read_key_file(out)[0] == keypair  # untouched

    sm = runner.invoke(
        cli, ["keys", "new", "bob", "--crypto", "sm", "--out", str(tmp_path / "bob.key")]
    )
    assert sm.exit_code == 0 and "register_account" in sm.output

    shown = runner.invoke(cli, ["keys", "show", str(out)])
    assert shown.exit_code == 0 and info["address"] in shown.output
    assert keypair.private_key.hex() not in shown.output

    listed = runner.invoke(cli, ["keys", "list", str(tmp_path), "--json"])
    assert listed.exit_code == 0
    docs = json.loads(listed.output)
    assert [(d["name"], d["suite"]) for d in docs] == [("alice", "ed25519"), ("bob", "sm")]
    plain = runner.invoke(cli, ["keys", "list", str(tmp_path)])
    assert "alice" in plain.output and "bob" in plain.output
    empty = runner.invoke(cli, ["keys", "list", str(tmp_path / "nothing")])
    assert empty.exit_code == 1 and "not a directory" in empty.output


def test_keys_new_defaults_to_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["keys", "new", "carol"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "carol.key").is_file()


def test_node_add_observer_lets_it_in_through_the_existing_configs(tmp_path: Path) -> None:
    net = tmp_path / "net"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(net), "--nodes", "2"]).exit_code == 0
    result = runner.invoke(
        cli,
        ["node", "add", "--dir", str(net), "--port", "28001", "--p2p-port", "27001", "--observer"],
    )
    assert result.exit_code == 0, result.output
    assert "observer" in result.output and "node2" in result.output
    p2p_key = read_key_file(net / "node2" / "p2p.key")[0].public_key
    for name in ("node0", "node1"):
        assert load_config(net / name).p2p.observers == (p2p_key,)
    assert load_config(net / "node2").p2p.observers == ()  # it lets nobody else in
    # A plain `node add` (a future validator) changes no one's config.
    result = runner.invoke(
        cli, ["node", "add", "--dir", str(net), "--port", "28002", "--p2p-port", "27002"]
    )
    assert result.exit_code == 0, result.output
    assert load_config(net / "node0").p2p.observers == (p2p_key,)
    # A config the tool cannot read is reported, not overwritten.
    (net / "node1" / "config.toml").write_text("[p2p]\nobservers = 7\n")
    args = ["--port", "28003", "--p2p-port", "27003", "--observer"]
    result = runner.invoke(cli, ["node", "add", "--dir", str(net), *args])
    assert result.exit_code != 0 and "p2p.observers" in result.output


def test_the_tsa_ca_key_is_not_among_the_account_keys(tmp_path: Path) -> None:
    net = tmp_path / "net"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(net)]).exit_code == 0
    assert (net / "tsa-ca.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (net / "tsa-ca.key").stat().st_mode & 0o077 == 0
    listed = runner.invoke(cli, ["keys", "list", str(net / "keys")])
    assert listed.exit_code == 0 and listed.stderr == ""  # no warning about a PEM file
    assert "org1-writer" in listed.stdout and "tsa" not in listed.stdout
    added = runner.invoke(cli, ["node", "add", "--dir", str(net), "--port", "1", "--p2p-port", "2"])
    assert added.exit_code == 0, added.output
    assert (net / "node1" / "tsa" / "tsa.pem").exists()  # the CA still issues certificates

    # A network made before the move keeps working: its CA key in keys/ still issues,
    # and `keys list` notes the PEM file instead of warning about a broken key file.
    (net / "tsa-ca.key").rename(net / "keys" / "tsa-ca.key")
    added = runner.invoke(cli, ["node", "add", "--dir", str(net), "--port", "3", "--p2p-port", "4"])
    assert added.exit_code == 0, added.output
    assert (net / "node2" / "tsa" / "tsa.pem").exists()
    listed = runner.invoke(cli, ["keys", "list", str(net / "keys")])
    assert listed.exit_code == 0 and "warning" not in listed.stderr
    assert "note: tsa-ca.key is a PEM key" in listed.stderr


def test_each_suite_has_its_own_development_chain_id(tmp_path: Path) -> None:
    ids = {}
    for crypto in ("ed25519", "sm"):
        result = CliRunner().invoke(cli, ["init", str(tmp_path / crypto), "--crypto", crypto])
        assert result.exit_code == 0, result.output
        ids[crypto] = load_genesis((tmp_path / crypto / "genesis.json").read_bytes()).chain_id
    assert ids == {"ed25519": "xinlian-dev", "sm": "xinlian-dev-sm"}
    assert create_network(tmp_path / "lib", suite_name="sm").root.exists()
    assert load_genesis((tmp_path / "lib" / "genesis.json").read_bytes()).chain_id == (
        "xinlian-dev-sm"
    )
