"""``POST /v1/transactions/simulate`` against a live node: receipts of signed and unsigned
calls, nothing committed, and problem+json for bad input."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from xinlian.codec import encode, encode_args
from xinlian.crypto import address_of, get_suite
from xinlian.node.keys import read_key
from xinlian.types import SignedTransaction, Transaction

SUITE = get_suite("ed25519")
PATH = "/v1/transactions/simulate"
WAIT_S = 20


def call(url: str, method: str, path: str, body: Any = None) -> tuple[int, str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), json.loads(err.read())


def wait_committed(url: str, tx_hash: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        status, _, doc = call(url, "GET", f"/v1/transactions/{tx_hash}")
        if status == 200 and doc["status"] == "committed":
            return dict(doc)
        time.sleep(0.05)
    raise AssertionError(f"transaction {tx_hash} not committed within {WAIT_S}s")


def _signed(kp: Any, nonce: int, target: str, method: str, args: dict[str, Any]) -> bytes:
    tx = Transaction(
        "xinlian-dev", kp.public_key, nonce, target, method, encode_args(args), 200_000, 10**9
    )
    return encode(SignedTransaction(tx, SUITE.sign(kp.private_key, encode(tx))))


def _observed(url: str, address: str) -> tuple[Any, ...]:
    """What a simulation must not change: the account's nonce, the mempool and the state
    root at the latest height (blocks keep coming, but without transactions the state
    root stays)."""
    _, _, status = call(url, "GET", "/v1/status")
    _, _, account = call(url, "GET", f"/v1/accounts/{address}")
    return status["state_root"], status["mempool_size"], account["nonce"]


@pytest.fixture(scope="module")
def keys(live_node: Any) -> dict[str, Any]:
    d = live_node.layout.key_dir
    return {n: read_key(d / f"{n}.key")[0] for n in ("org1-writer", "org1-reader", "developer")}


def _nonce(url: str, kp: Any) -> int:
    _, _, doc = call(url, "GET", f"/v1/accounts/{address_of(SUITE, kp.public_key)}")
    return int(doc["nonce"])


def test_a_signed_simulation_commits_nothing_and_predicts_the_receipt(
    live_node: Any, keys: dict[str, Any]
) -> None:
    url, kp = live_node.url, keys["org1-writer"]
    address = address_of(SUITE, kp.public_key)
    raw = _signed(kp, _nonce(url, kp), "kv", "put", {"key": "sim/a", "value": "1"})
    before = _observed(url, address)
    status, ctype, doc = call(url, "POST", PATH, {"tx": raw.hex()})
    assert status == 200, doc
    assert ctype.startswith("application/json")
    assert doc["outcome"] == "ok" and doc["signed"] is True and doc["refused"] is None
    assert doc["hash"] == SUITE.hash(raw).hex()
    assert doc["receipt"]["events"] == [
        {"type": "kv.put", "attributes": {"key": "sim/a", "writer": address}}
    ]
    time.sleep(0.3)  # several block intervals: had anything been kept, it would show
    assert _observed(url, address) == before
    status, _, _ = call(url, "GET", f"/v1/transactions/{doc['hash']}")
    assert status == 404
    _, _, state = call(url, "GET", "/v1/state/kv/sim/a")
    assert state["value"] is None
    # Sent for real, the transaction gets exactly the simulated receipt.
    _, _, sent = call(url, "POST", "/v1/transactions", {"tx": raw.hex()})
    committed = wait_committed(url, sent["hash"])
    assert committed["receipt"] == doc["receipt"]


def test_an_unsigned_call_by_address_or_key(live_node: Any, keys: dict[str, Any]) -> None:
    url, kp = live_node.url, keys["org1-writer"]
    address = address_of(SUITE, kp.public_key)
    base = {"target": "kv", "method": "put", "args": {"key": "sim/u", "value": "2"}}
    before = _observed(url, address)
    status, _, by_address = call(url, "POST", PATH, {**base, "address": address.upper()})
    assert status == 200, by_address
    assert by_address["outcome"] == "ok" and by_address["signed"] is False
    assert by_address["nonce"] == before[2]
    status, _, by_key = call(url, "POST", PATH, {**base, "sender": kp.public_key.hex()})
    assert status == 200 and by_key["receipt"] == by_address["receipt"]
    assert _observed(url, address) == before


@pytest.mark.parametrize(
    ("key", "body", "code", "words"),
    [
        ("org1-writer", {"target": "nope", "method": "put"}, "unknown_target", "unknown target"),
        ("org1-writer", {"target": "kv", "method": "nope"}, "unknown_target", "no method 'nope'"),
        (
            "org1-writer",
            {"target": "kv", "method": "put", "args": {"key": 7, "value": "x"}},
            "invalid_args",
            "bad arguments for kv.put",
        ),
        (
            "org1-reader",
            {"target": "kv", "method": "put", "args": {"key": "k", "value": "x"}},
            "permission_denied",
            "lacks role 'writer'",
        ),
    ],
)
def test_what_admission_refuses_is_refused_with_its_code(
    live_node: Any, keys: dict[str, Any], key: str, body: dict[str, Any], code: str, words: str
) -> None:
    kp = keys[key]
    status, _, doc = call(live_node.url, "POST", PATH, {**body, "sender": kp.public_key.hex()})
    assert status == 200, doc
    assert (doc["outcome"], doc["code"], doc["receipt"]) == ("refused", code, None)
    assert words in doc["refused"]


def test_a_call_that_fails_when_it_runs_reports_its_receipt(
    live_node: Any, keys: dict[str, Any]
) -> None:
    """The checker refuses a contract only when deploy runs: a failed receipt, before it
    costs a block."""
    body = {
        "target": "contracts",
        "method": "deploy",
        "args": {
            "source": "from contract import export\n\n@export\ndef f() -> int:\n    return 1.5\n",
            "init": {},
            "upgrade_policy": "immutable",
        },
        "gas_limit": 5_000_000,
    }
    kp = keys["developer"]
    status, _, doc = call(live_node.url, "POST", PATH, {**body, "sender": kp.public_key.hex()})
    assert status == 200, doc
    assert (doc["outcome"], doc["code"]) == ("failed", None)
    assert doc["receipt"]["status"] == 4
    assert "line 5: floats are not allowed" in doc["receipt"]["error"]


def test_refusals_name_the_reason(live_node: Any, keys: dict[str, Any]) -> None:
    url = live_node.url
    stranger = SUITE.keypair_from_private(bytes(range(32)))
    for body in (
        {"sender": stranger.public_key.hex(), "target": "kv", "method": "put"},
        {"address": address_of(SUITE, stranger.public_key), "target": "kv", "method": "put"},
        {"tx": _signed(stranger, 0, "kv", "put", {"key": "k", "value": "v"}).hex()},
    ):
        status, _, doc = call(url, "POST", PATH, body)
        assert status == 200, doc
        assert doc["outcome"] == "refused" and doc["receipt"] is None
        assert "unknown sender" in doc["refused"]
    kp = keys["org1-writer"]
    status, _, doc = call(
        url,
        "POST",
        PATH,
        {"sender": kp.public_key.hex(), "target": "kv", "method": "put", "gas_limit": 10**12},
    )
    assert doc["outcome"] == "refused" and "above the chain's maximum" in doc["refused"]


@pytest.mark.parametrize(
    ("body", "reason", "words"),
    [
        ({}, "bad_body", "needs target and method"),
        ({"target": "kv", "method": "put"}, "bad_body", 'give the sender as "sender"'),
        ({"tx": "zz"}, "bad_hex", "tx must be hex"),
        ({"tx": "00"}, "malformed", ""),
        ({"tx": 5}, "bad_body", "tx must be the hex"),
        ({"tx": "00", "target": "kv"}, "bad_body", "drop target"),
        ({"target": "kv", "method": "put", "sender": "ab"}, "bad_hex", "sender must be 32 bytes"),
        ({"target": "kv", "method": "put", "address": "xyz"}, "bad_hex", "address must be hex"),
        ({"target": "kv", "method": "put", "address": "00" * 20, "nonce": -1}, "bad_body", "nonce"),
        (
            {"target": "kv", "method": "put", "address": "00" * 20, "gas_limit": 0},
            "bad_body",
            "gas",
        ),
        ({"target": "kv", "method": "put", "address": "00" * 20, "args": [1]}, "bad_args", "args"),
        (
            {"target": "kv", "method": "put", "address": "00" * 20, "args": {"f": 1.5}},
            "bad_args",
            "",
        ),
        ({"target": "kv", "method": "put", "colour": "red"}, "bad_body", "unknown field(s) colour"),
    ],
)
def test_bad_input_is_a_problem_document(
    live_node: Any, body: dict[str, Any], reason: str, words: str
) -> None:
    status, ctype, doc = call(live_node.url, "POST", PATH, body)
    assert status == 400, doc
    assert ctype == "application/problem+json"
    assert doc["reason"] == reason
    assert words in doc["detail"]


def test_a_bad_signature_is_refused_as_input(live_node: Any, keys: dict[str, Any]) -> None:
    raw = bytearray(_signed(keys["org1-writer"], 0, "kv", "put", {"key": "k", "value": "v"}))
    raw[-1] ^= 1
    status, ctype, doc = call(live_node.url, "POST", PATH, {"tx": bytes(raw).hex()})
    assert status == 400 and ctype == "application/problem+json"
    assert doc["reason"] == "bad_signature"


SPIN = '''"""Runs until its gas is gone."""

from contract import export


@export
def spin() -> int:
    i = 0
    while True:
        i += 1
'''


def test_the_gas_cap_bounds_a_runaway_call(live_node: Any, keys: dict[str, Any]) -> None:
    from xinlian.sdk import Client, Signer
    from xinlian.sdk.contracts import deploy

    developer = Signer.from_file(live_node.layout.key_dir / "developer.key")
    with Client(live_node.url, key=developer, timeout=60) as c:
        address, _ = deploy(c, SPIN, {})
    sender = keys["org1-writer"].public_key.hex()
    body = {"sender": sender, "target": address, "method": "spin"}
    status, _, small = call(live_node.url, "POST", PATH, {**body, "gas_limit": 1_000_000})
    assert status == 200 and small["outcome"] == "failed"
    assert small["receipt"]["status"] == 2 and small["capped"] is False  # its own limit
    status, _, big = call(live_node.url, "POST", PATH, {**body, "gas_limit": 200_000_000})
    assert status == 200 and big["outcome"] == "failed", big
    assert big["receipt"]["status"] == 2 and big["receipt"]["gas_used"] == big["gas_cap"]
    assert big["capped"] is True and big["gas_limit"] == 200_000_000


def test_too_many_simulations_at_once_are_answered_busy(live_node: Any) -> None:
    from xinlian.api import transactions

    held = [transactions._simulating.acquire(blocking=False) for _ in range(2)]
    try:
        assert held == [True, True]  # as if two simulations were running
        body = {"address": "00" * 20, "target": "kv", "method": "put"}
        req = urllib.request.Request(
            live_node.url + PATH, data=json.dumps(body).encode(), method="POST"
        )
        req.add_header("Content-Type", "application/json")
        # An unknown address is answered before any simulation runs: not busy.
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200
        kp_body = dict(body)
        del kp_body["address"]
        kp_body["sender"] = SUITE.keypair_from_private(bytes(32)).public_key.hex()
        status, ctype, doc = call(live_node.url, "POST", PATH, kp_body)
        assert status == 503 and ctype == "application/problem+json"
        assert doc["reason"] == "busy"
    finally:
        for ok in held:
            if ok:
                transactions._simulating.release()
    kp_body["target"] = "kv"
    status, _, doc = call(live_node.url, "POST", PATH, kp_body)
    assert status == 200 and doc["outcome"] == "refused"
