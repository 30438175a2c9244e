"""The CLI against a real node and API running in this process."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from xinlian.cli.main import cli
from xinlian.cli.service import BackgroundNode
from xinlian.node.network import create_network
from xinlian.sdk import Client, Signer


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("cli-net")
    layout = create_network(root, chain_id="cli-test", base_port=0, block_interval_ms=20)
    live = BackgroundNode(layout.node_homes[0])
    live.start()
    try:
        yield live.url, root
    finally:
        live.stop()
        assert live.error is None, live.error


def _run(url: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, [*args, "--url", url])
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def test_status_and_blocks(net: tuple[str, Path]) -> None:
    url, _ = net
    doc = json.loads(_run(url, "status", "--json").stdout)
    assert doc["chain_id"] == "cli-test" and doc["suite"] == "ed25519"
    assert "cli-test" in _run(url, "status").output
    with Client(url, key=Signer.from_file(net[1] / "keys" / "org2-writer.key")) as c:
        sent = c.send("kv", "put", {"key": "cli/first", "value": "1"}, timeout=60)
    assert sent.height is not None
    sent_height = sent.height
    latest = json.loads(_run(url, "block", "get", "--json").stdout)
    assert latest["verified"] is True and latest["height"] >= sent_height
    assert "(verified)" in _run(url, "block", "get", str(latest["height"])).output


def test_send_then_query_with_proof(net: tuple[str, Path]) -> None:
    url, root = net
    writer = str(root / "keys" / "org1-writer.key")
    sent = _run(
        url,
        "tx",
        "send",
        "--key",
        writer,
        "--target",
        "kv",
        "--method",
        "put",
        "--args",
        '{"key": "cli/a", "value": "b"}',
        "--json",
    )
    doc = json.loads(sent.stdout)
    assert doc["status"] == "committed" and doc["receipt"]["status"] == "OK"
    assert doc["receipt"]["events"][0]["type"] == "kv.put"

    state = _run(url, "query", "state", "kv/cli/a")
    assert "kv/cli/a = b" in state.output and "verified" in state.output
    state_doc = json.loads(_run(url, "query", "state", "kv/cli/a", "--json").stdout)
    assert state_doc["verified"] is True and state_doc["value_text"] == "b"
    absent = _run(url, "query", "state", "kv/cli/none")
    assert "(absent)" in absent.output and "absence is proven" in absent.output

    got = json.loads(_run(url, "tx", "get", doc["hash"], "--json").stdout)
    assert got["verified"] is True and got["height"] == doc["height"]
    assert got["tx"]["target"] == "kv"
    assert "inclusion proof and commit verified" in _run(url, "tx", "get", doc["hash"]).output

    assert _run(url, "query", "call", "kv", "get", "--args", '{"key": "cli/a"}').stdout == "b\n"
    account = json.loads(_run(url, "query", "account", writer, "--json").stdout)
    assert account["registered"] is True and account["org"] == "org1"
    assert account["nonce"] >= 1


def test_no_wait_and_lookup(net: tuple[str, Path]) -> None:
    url, root = net
    writer = str(root / "keys" / "org2-writer.key")
    out = _run(
        url,
        "tx",
        "send",
        "--key",
        writer,
        "--target",
        "kv",
        "--method",
        "put",
        "--args",
        '{"key": "cli/nowait", "value": "1"}',
        "--no-wait",
    ).stdout
    match = re.search(r"transaction ([0-9a-f]{64})", out)
    assert match, out
    with Client(url) as c:
        c.wait_for(match.group(1), timeout=30)
    assert "status   OK" in _run(url, "tx", "get", match.group(1)).output


def test_refusals_and_failures_are_reported(net: tuple[str, Path], tmp_path: Path) -> None:
    url, root = net
    stranger = tmp_path / "stranger.key"
    CliRunner().invoke(cli, ["keys", "new", "stranger", "--out", str(stranger)])
    put = [
        "tx",
        "send",
        "--target",
        "kv",
        "--method",
        "put",
        "--args",
        '{"key": "cli/x", "value": "y"}',
    ]
    # --no-simulate: the node's refusal and the failed receipt (simulation: see
    # test_cli_simulate.py).
    refused = _run(url, *put, "--no-simulate", "--key", str(stranger), code=1)
    assert "error: unknown_sender: unknown sender" in refused.output
    reader = str(root / "keys" / "org1-reader.key")
    denied = _run(url, *put, "--no-simulate", "--key", reader, code=1)
    assert "error: permission_denied: account" in denied.output
    assert "lacks role 'writer' for kv.put" in denied.output
    missing = _run(url, "tx", "get", "ab" * 32, code=1)
    assert "error: not_found" in missing.output


def test_admin_registers_a_key_given_as_hex(net: tuple[str, Path], tmp_path: Path) -> None:
    url, root = net
    newcomer = Signer.generate()
    args = json.dumps(
        {"public_key": "hex:" + newcomer.public_key.hex(), "name": "newcomer", "roles": ["writer"]}
    )
    result = _run(
        url,
        "tx",
        "send",
        "--key",
        str(root / "keys" / "org3-admin.key"),
        "--target",
        "identity",
        "--method",
        "register_account",
        "--args",
        args,
    )
    assert newcomer.address in result.output
    account = json.loads(_run(url, "query", "account", newcomer.address, "--json").stdout)
    assert account["roles"] == ["writer"] and account["org"] == "org3"


def test_batch_shows_progress_and_commits(net: tuple[str, Path], tmp_path: Path) -> None:
    url, root = net
    calls = tmp_path / "calls.jsonl"
    calls.write_text(
        "\n".join(
            json.dumps(
                {"target": "kv", "method": "put", "args": {"key": f"cli/b{i}", "value": "v"}}
            )
            for i in range(7)
        )
    )
    result = _run(
        url,
        "tx",
        "batch",
        str(calls),
        "--key",
        str(root / "keys" / "org1-writer.key"),
        "--chunk-size",
        "3",
    )
    assert "7 calls: 7 committed (0 failed)" in result.stdout
    assert "sending" in result.stderr
    doc = json.loads(_run(url, "query", "state", "kv/cli/b6", "--json").stdout)
    assert doc["value_text"] == "v"
