"""Contracts against a live node: REST routes, the SDK (typed and async clients), the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from xinlian.cli.main import cli
from xinlian.sdk import AsyncClient, Client, Signer, TxFailedError, XinlianError
from xinlian.sdk.contracts import (
    abind,
    bind,
    client_source,
    contract_address,
    deploy,
    get_code,
    get_info,
)

TOKEN = Path(__file__).resolve().parents[3] / "examples" / "contracts" / "token.py"
INIT = {"name": "Live", "symbol": "LIV", "total": 1_000}


def _client(live_node: Any, key: str) -> Client:
    signer = Signer.from_file(live_node.layout.key_dir / f"{key}.key")
    return Client(live_node.url, key=signer, genesis=live_node.layout.genesis, timeout=30)


def _run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == code, result.output
    return result


def test_sdk_deploy_bind_call_query_and_typed_source(live_node: Any) -> None:
    with _client(live_node, "developer") as dev, _client(live_node, "org2-writer") as bob:
        nonce = dev.account(dev.address or "").nonce
        address, result = deploy(dev, TOKEN.read_text(), INIT)
        suite = dev.chain()[1]
        assert address == contract_address(suite, dev.address or "", nonce)
        assert result.receipt is not None and result.receipt.ok
        info = get_info(dev, address)
        assert info.owner == dev.address and info.code_hash == suite.hash(TOKEN.read_bytes())
        assert get_code(dev, address) == TOKEN.read_text()
        token = bind(dev, address)
        sent = token.transfer(to=bob.address, amount=30)  # type: ignore[attr-defined]
        assert sent.receipt.output is True and sent.receipt.gas_used > 0
        assert token.balance_of(owner=bob.address) == 30  # type: ignore[attr-defined]
        with pytest.raises(XinlianError, match="missing argument"):
            token.transfer(to=bob.address)  # type: ignore[attr-defined]
        with pytest.raises(XinlianError, match="must be int"):
            token.transfer(to=bob.address, amount="3")  # type: ignore[attr-defined]
        with pytest.raises(TxFailedError, match="insufficient balance"):
            bind(bob, address).transfer(to=dev.address, amount=31)  # type: ignore[attr-defined]
        (event,) = token.events("Transfer", limit=10)[-1:]
        assert event.attributes["to"] == bob.address and event.attributes["amount"] == "30"
        # The generated typed client is valid Python with the contract's interface.
        source = client_source(info, "Token")
        namespace: dict[str, Any] = {}
        exec(compile(source, "token_client.py", "exec"), namespace)
        typed = namespace["Token"](dev, address)
        assert typed.balance_of(owner=bob.address) == 30
        assert "def transfer(self, *, to: str, amount: int) -> TxResult:" in source


async def test_async_bound_contract(live_node: Any) -> None:
    signer = Signer.from_file(live_node.layout.key_dir / "developer.key")
    with _client(live_node, "developer") as dev:
        address, _ = deploy(dev, TOKEN.read_text(), INIT)
    async with AsyncClient(live_node.url, key=signer, timeout=30) as client:
        token = await abind(client, address)
        result = await token.transfer(to="ab" * 20, amount=1)
        assert result.ok
        assert await token.balance_of(owner="ab" * 20) == 1


def test_rest_routes_and_their_errors(live_node: Any) -> None:
    with _client(live_node, "developer") as dev:
        address, _ = deploy(dev, TOKEN.read_text(), INIT)
    url = live_node.url
    meta = httpx.get(f"{url}/v1/contracts/{address}", timeout=30).json()
    assert meta["address"] == address and "transfer" in [m["name"] for m in meta["methods"]]
    code = httpx.get(f"{url}/v1/contracts/{address}/code", timeout=30).json()
    assert code["source"] == TOKEN.read_text()
    r = httpx.post(f"{url}/v1/contracts/{address}/query", json={"method": "info"}, timeout=30)
    assert r.json() == {"result": {"name": "Live", "symbol": "LIV", "supply": 1000}}
    # The generic query route serves contracts too.
    r = httpx.post(f"{url}/v1/query", json={"target": address, "method": "info"}, timeout=30)
    assert r.json()["result"]["supply"] == 1000
    r = httpx.post(f"{url}/v1/contracts/{address}/query", json={"method": "transfer"}, timeout=30)
    assert r.status_code == 400 and "has no view method 'transfer'" in r.json()["detail"]
    assert httpx.get(f"{url}/v1/contracts/nothex", timeout=30).status_code == 400
    assert httpx.get(f"{url}/v1/contracts/c{'0' * 40}", timeout=30).status_code == 404
    r = httpx.get(f"{url}/v1/contracts/{address}/events", timeout=30)
    assert r.status_code == 400


def test_cli_deploy_call_query_events_info_client(live_node: Any, tmp_path: Path) -> None:
    url = ["--url", live_node.url]
    dev_key = str(live_node.layout.key_dir / "developer.key")
    out = _run(
        "contract", "deploy", str(TOKEN), "--key", dev_key, "--init", json.dumps(INIT),
        "--json", *url,
    )  # fmt: skip
    doc = json.loads(out.stdout)
    assert doc["receipt"]["status"] == "OK"
    address = next(e for e in doc["receipt"]["events"] if e["type"] == "contracts.deployed")[
        "attributes"
    ]["address"]
    bob = "cd" * 20
    args = json.dumps({"to": bob, "amount": 12})
    out = _run("contract", "call", "--key", dev_key, address, "transfer", "--args", args, *url)
    assert "OK" in out.output and "Transfer" in out.output
    out = _run(
        "contract", "query", address, "balance_of", "--args", json.dumps({"owner": bob}), *url
    )
    assert json.loads(out.stdout) == 12
    out = _run("contract", "events", address, "Transfer", *url)
    assert f"to={bob}" in out.output
    out = _run("contract", "info", address, *url)
    assert "export transfer(to: str, amount: int) -> bool" in out.output
    out = _run("contract", "client", address, "--class-name", "Bolt", *url)
    assert "class Bolt:" in out.output
    # Failures are one clear line and exit status 1.
    writer_key = str(live_node.layout.key_dir / "org1-writer.key")
    out = _run("contract", "deploy", str(TOKEN), "--key", writer_key, *url, code=1)
    assert "lacks the 'deployer' role" in out.output
    out = _run("contract", "query", "nope", "info", *url, code=1)
    assert "is not a contract address" in out.output
    out = _run(
        "contract",
        "call",
        "--key",
        dev_key,
        address,
        "transfer",
        "--args",
        json.dumps({"to": bob, "amount": 10**9}),
        *url,
        code=1,
    )
    assert "insufficient balance" in out.output


COUNTER = "from contract import view\n\n\n@view\ndef version() -> int:\n    return {v}\n"


def test_cli_upgrade_through_governance(live_node: Any, tmp_path: Path) -> None:
    url = ["--url", live_node.url]
    keys = live_node.layout.key_dir
    v1, v2 = tmp_path / "v1.py", tmp_path / "v2.py"
    v1.write_text(COUNTER.format(v=1))
    v2.write_text(COUNTER.format(v=2))
    out = _run(
        "contract", "deploy", str(v1), "--key", str(keys / "developer.key"),
        "--upgrade-policy", "governance", "--json", *url,
    )  # fmt: skip
    doc = json.loads(out.stdout)
    address = doc["receipt"]["events"][0]["attributes"]["address"]
    out = _run("contract", "upgrade", "--key", str(keys / "developer.key"), address, str(v2),
               *url, code=1)  # fmt: skip
    assert "governance has not approved" in out.output
    out = _run("contract", "propose-upgrade", "--key", str(keys / "org1-admin.key"), address,
               str(v2), "--json", *url)  # fmt: skip
    pid = json.loads(out.stdout)["receipt"]["output"]
    orgs = sorted(p.name.split("-")[0] for p in keys.glob("org*-admin.key"))
    for org in orgs[1:]:
        with _client(live_node, f"{org}-admin") as admin:
            admin.send("governance", "vote", {"id": pid}).raise_for_status()
    _run("contract", "upgrade", "--key", str(keys / "developer.key"), address, str(v2), *url)
    out = _run("contract", "query", address, "version", *url)
    assert json.loads(out.stdout) == 2


ATTACKS = """
from contract import export, view


@export
def spin() -> None:
    while True:
        pass


@export
def power() -> int:
    return 2 ** 10 ** 9


@export
def recurse() -> None:
    recurse()


@view
def spin_view() -> int:
    i = 0
    while True:
        i += 1
    return i
"""


def test_a_live_node_survives_attacks_and_keeps_committing(live_node: Any) -> None:
    with _client(live_node, "developer") as dev:
        address, _ = deploy(dev, ATTACKS)
        start = dev.status().height
        for method, message in [
            ("spin", "out of gas"),
            ("power", "power exceeds"),
            ("recurse", "call depth exceeds 64"),
        ]:
            result = dev.send(address, method, {}, gas_limit=2_000_000)
            assert result.receipt is not None and not result.receipt.ok
            assert message in result.receipt.error
        with pytest.raises(XinlianError, match="out of gas"):
            dev.query(address, "spin_view", {})
    with _client(live_node, "org1-writer") as writer:
        after = writer.send("kv", "put", {"key": "still", "value": "alive"})
        assert after.ok and writer.status().height > start


HOSTILE = """
from contract import export, view


@export
def collide() -> int:
    d = {}
    for i in range(100000):
        d[i * 2305843009213693951] = i
    return len(d)


@export
def scan() -> int:
    b = 'a' * 100000
    xs = [b[:-1] + 'b'] * 1000
    needle = b[:-1] + 'c'
    t = 0
    while True:
        t += int(needle in xs)
    return t


@view
def probe() -> int:
    d = {str(i): i for i in range(5000)}
    t = 0
    i = 0
    while True:
        i += 1
        t += int(i * 2305843009213693951 in d)
    return t
"""


def test_hostile_calls_stop_within_their_gas_and_blocks_keep_committing(live_node: Any) -> None:
    with _client(live_node, "developer") as dev:
        address, _ = deploy(dev, HOSTILE)
        start = dev.status().height
        for method, message in [("collide", "dict keys are str"), ("scan", "out of gas")]:
            result = dev.send(address, method, {}, gas_limit=20_000_000)
            assert result.receipt is not None and not result.receipt.ok
            assert message in result.receipt.error
            assert result.receipt.gas_used <= 20_000_000
    with _client(live_node, "org1-writer") as writer:
        after = writer.send("kv", "put", {"key": "hostile", "value": "survived"})
        assert after.ok and writer.status().height > start


def test_a_running_query_does_not_hold_the_event_loop(live_node: Any, monkeypatch: Any) -> None:
    """While a contract query holds its worker thread, the API answers and a transaction
    commits.

    The query is held at its start by a gate (then runs for real): on the event loop, as
    before, the gate would stall /healthz and the status route until released.
    """
    import threading

    with _client(live_node, "developer") as dev:
        address, _ = deploy(dev, HOSTILE)
        chain = live_node.node.chain
        entered, release = threading.Event(), threading.Event()
        real = chain.query

        def gated(target: str, method: str, args: bytes) -> Any:
            if method == "probe":
                entered.set()
                release.wait(60)
            return real(target, method, args)

        monkeypatch.setattr(chain, "query", gated)
        outcome: list[str] = []

        def heavy() -> None:
            with _client(live_node, "developer") as other:
                try:
                    other.query(address, "probe", {})
                    outcome.append("ok")
                except XinlianError as exc:
                    outcome.append(str(exc))

        thread = threading.Thread(target=heavy)
        thread.start()
        try:
            assert entered.wait(60), "the query never started"
            health = httpx.get(f"{live_node.url}/healthz", timeout=10)
            assert health.status_code == 200
            before = dev.status().height
            with _client(live_node, "org1-writer") as writer:
                sent = writer.send("kv", "put", {"key": "during", "value": "query"})
            assert sent.ok and dev.status().height > before
            assert not outcome, "the query finished before it was released"
        finally:
            release.set()
            thread.join(60)
        assert outcome and "out of gas" in outcome[0]
