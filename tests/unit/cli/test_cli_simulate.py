"""Simulation from the CLI: ``tx simulate``, ``tx send`` and ``contract deploy`` refusing
locally (no block spent), ``--no-simulate``, and ``contract check`` offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from xinlian.cli.main import cli
from xinlian.cli.service import BackgroundNode
from xinlian.node.network import create_network
from xinlian.sdk import Client, Signer

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "contracts"
BAD_CONTRACT = '''"""Three mistakes."""

import os
from contract import export


@export
def f(x: int) -> int:
    return x / 2


@export
def g() -> int:
    return 1.5
'''


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("sim-net")
    layout = create_network(root, chain_id="sim-test", base_port=0, block_interval_ms=20)
    live = BackgroundNode(layout.node_homes[0])
    live.start()
    try:
        yield live.url, root
    finally:
        live.stop()
        assert live.error is None, live.error


def _run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    return result


def _nonce(url: str, key: Path) -> int:
    signer = Signer.from_file(key)
    with Client(url) as c:
        return c.account(signer.address).nonce


PUT = ["--target", "kv", "--method", "put", "--args", '{"key": "sim/k", "value": "v"}']


def test_tx_simulate_with_a_key_or_an_address(net: tuple[str, Path]) -> None:
    url, root = net
    writer = root / "keys" / "org1-writer.key"
    before = _nonce(url, writer)
    out = _run("tx", "simulate", "--key", str(writer), *PUT, "--url", url).output
    assert "would succeed" in out and "nothing was committed" in out
    assert "event    kv.put key=sim/k" in out
    address = Signer.from_file(writer).address
    doc = json.loads(
        _run("tx", "simulate", "--sender", address, *PUT, "--url", url, "--json").stdout
    )
    assert doc["outcome"] == "ok" and doc["signed"] is False and doc["nonce"] == before
    assert _nonce(url, writer) == before
    with Client(url) as c:
        assert c.get_state("kv/sim/k", verify=False) is None


def test_tx_simulate_reports_failures_with_exit_status_1(net: tuple[str, Path]) -> None:
    url, root = net
    reader = root / "keys" / "org1-reader.key"
    out = _run("tx", "simulate", "--key", str(reader), *PUT, "--url", url, code=1).output
    assert "would be refused" in out and "lacks role 'writer'" in out
    stranger = "00" * 20
    out = _run("tx", "simulate", "--sender", stranger, *PUT, "--url", url, code=1).output
    assert "would be refused" in out and f"unknown sender {stranger}" in out
    both = _run("tx", "simulate", *PUT, "--url", url, code=1)
    assert both.output.startswith("error: give the sender as --key FILE or --sender ADDRESS")
    bad = _run("tx", "simulate", "--sender", "xyz", *PUT, "--url", url, code=1)
    assert bad.output.startswith("error: --sender must be an address of 40 hex digits")


def test_send_refuses_locally_and_spends_no_block(net: tuple[str, Path]) -> None:
    url, root = net
    reader = root / "keys" / "org1-reader.key"
    before = _nonce(url, reader)
    refused = _run("tx", "send", "--key", str(reader), *PUT, "--url", url, code=1)
    lines = refused.output.strip().splitlines()
    assert lines[-1].startswith("error: not sent: the simulation says it would fail: ")
    assert "lacks role 'writer'" in lines[-1] and "--no-simulate" in lines[-1]
    assert _nonce(url, reader) == before  # nothing reached the chain
    forced = _run("tx", "send", "--key", str(reader), *PUT, "--no-simulate", "--url", url, code=1)
    assert "error: permission_denied" in forced.output
    assert _nonce(url, reader) == before  # admission refuses it too: no block is spent
    writer = root / "keys" / "org1-writer.key"
    sent = json.loads(_run("tx", "send", "--key", str(writer), *PUT, "--url", url, "--json").stdout)
    assert sent["status"] == "committed" and sent["receipt"]["status"] == "OK"


def test_contract_deploy_refuses_a_checker_failure_locally(
    net: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = net
    developer = root / "keys" / "developer.key"
    bad = tmp_path / "bad.py"
    bad.write_text(BAD_CONTRACT)
    before = _nonce(url, developer)
    out = _run("contract", "deploy", "--key", str(developer), str(bad), "--url", url, code=1)
    assert "error: not sent: the simulation says it would fail: INVALID_ARGS" in out.output
    assert "line 3: only 'from contract import ...' is allowed" in out.output
    assert _nonce(url, developer) == before
    # A missing role is caught the same way.
    writer = root / "keys" / "org1-writer.key"
    token = EXAMPLES / "token.py"
    init = '{"name": "Bolt", "symbol": "BLT", "total": 10}'
    out = _run(
        "contract", "deploy", "--key", str(writer), str(token), "--init", init, "--url", url, code=1
    )
    assert "PERMISSION_DENIED" in out.output and "deployer" in out.output
    ok = _run(
        "contract", "deploy", "--key", str(developer), str(token), "--init", init, "--url", url
    )
    assert "deployed" in ok.output
    assert _nonce(url, developer) == before + 1


def test_contract_check_lists_every_problem_offline(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(BAD_CONTRACT)
    # No --url and no node: the checker runs here.
    result = _run("contract", "check", str(bad), code=1)
    assert result.stdout.splitlines() == [
        f"{bad}:3: only 'from contract import ...' is allowed",
        f"{bad}:9: true division '/' makes floats; use '//' (integer division)",
        f"{bad}:14: floats are not allowed (not deterministic); use integers",
    ]
    assert result.stderr.splitlines() == ["error: 3 problems: a node would refuse this contract"]
    doc = json.loads(_run("contract", "check", str(bad), "--json", code=1).stdout)
    assert doc["ok"] is False and [p["line"] for p in doc["problems"]] == [3, 9, 14]
    good = _run("contract", "check", str(EXAMPLES / "token.py")).output
    assert "ok," in good and "export transfer(to: str, amount: int) -> bool" in good
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def f(:\n")
    out = _run("contract", "check", str(syntax), code=1).output
    assert f"{syntax}:1: syntax error" in out


WORK = '''"""Loops n times."""

from contract import export


@export
def work(n: int) -> int:
    i = 0
    while i < n:
        i += 1
    return i
'''


def test_a_call_beyond_the_simulation_gas_cap_is_sent_with_a_note(net: tuple[str, Path]) -> None:
    from xinlian.api.transactions import SIMULATE_MAX_GAS
    from xinlian.sdk.contracts import deploy

    url, root = net
    developer = Signer.from_file(root / "keys" / "developer.key")
    with Client(url, key=developer, timeout=60) as c:
        address, _ = deploy(c, WORK, {})
        small = c.simulate(address, "work", {"n": 1000})
        assert small.receipt is not None and small.ok
        per_1000 = small.receipt.gas_used
    n = (SIMULATE_MAX_GAS * 3 // 2) // per_1000 * 1000  # about 1.5 times the cap
    writer = str(root / "keys" / "org1-writer.key")
    args = ["contract", "call", "--key", writer, address, "work", "--args", f'{{"n": {n}}}']
    out = _run(*args, "--gas", str(SIMULATE_MAX_GAS * 3), "--url", url).output
    assert "note: the simulation stopped at the node's gas cap" in out
    assert "status   OK" in out and f"output   {n}" in out
