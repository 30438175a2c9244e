"""Every refusal reaches a client over HTTP with its code and its status, on a live node:
the raw problem document, the batch endpoint's per-transaction reason, and the SDK's
parsed ``Refusal``."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from xinlian.codec import encode, encode_args
from xinlian.crypto import KeyPair, address_of, get_suite
from xinlian.node.keys import read_key
from xinlian.protocol import Refusal
from xinlian.sdk import ApiError, Client, Signer
from xinlian.types import SignedTransaction, Transaction

SUITE = get_suite("ed25519")
CHAIN = "xinlian-dev"
WAIT_S = 30


def _nonce(url: str, address: str) -> int:
    return int(httpx.get(f"{url}/v1/accounts/{address}", timeout=30).json()["nonce"])


def _sign(kp: KeyPair, nonce: int, **kw: Any) -> bytes:
    fields: dict[str, Any] = {
        "chain_id": CHAIN,
        "sender": kp.public_key,
        "nonce": nonce,
        "target": "kv",
        "method": "put",
        "args": encode_args({"key": "refusals", "value": "v"}),
        "gas_limit": 200_000,
        "expiry": 10**9,
    }
    fields.update(kw)
    tx = Transaction(**fields)
    return encode(SignedTransaction(tx, SUITE.sign(kp.private_key, encode(tx))))


def _submit(url: str, raw: bytes) -> tuple[int, dict[str, Any]]:
    r = httpx.post(f"{url}/v1/transactions", json={"tx": raw.hex()}, timeout=30)
    return r.status_code, r.json()


def _commit(url: str, raw: bytes) -> None:
    status, doc = _submit(url, raw)
    assert status == 202, doc
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        got = httpx.get(f"{url}/v1/transactions/{doc['hash']}", timeout=30).json()
        if got.get("status") == "committed":
            assert got["receipt"]["status"] == 0, got
            return
        time.sleep(0.05)
    raise AssertionError(f"{doc['hash']} not committed within {WAIT_S}s")


@pytest.fixture(scope="module")
def accounts(live_node: Any) -> dict[str, KeyPair]:
    """Two fresh writer accounts of org3 (so no other test's nonces move): ``active`` and
    ``gone`` (deactivated), plus org3's admin and the dev network's org1 writer."""
    url = live_node.url
    keys = live_node.layout.key_dir
    admin = read_key(keys / "org3-admin.key")[0]
    out = {"admin": admin, "reader": read_key(keys / "org3-reader.key")[0]}
    for name in ("active", "gone"):
        kp = SUITE.generate()
        args = {"public_key": kp.public_key, "name": f"refusals-{name}", "roles": ["writer"]}
        nonce = _nonce(url, address_of(SUITE, admin.public_key))
        _commit(
            url,
            _sign(
                admin,
                nonce,
                target="identity",
                method="register_account",
                args=encode_args(args),
            ),
        )
        out[name] = kp
    gone = address_of(SUITE, out["gone"].public_key)
    nonce = _nonce(url, address_of(SUITE, admin.public_key))
    _commit(
        url,
        _sign(
            admin,
            nonce,
            target="identity",
            method="deactivate_account",
            args=encode_args({"address": gone}),
        ),
    )
    return out


def _cases(url: str, acc: dict[str, KeyPair]) -> list[tuple[str, bytes, int, str]]:
    """(name, raw, status, reason) of one refused transaction per rule."""
    me = acc["active"]
    nonce = _nonce(url, address_of(SUITE, me.public_key))
    good = _sign(me, nonce + 3)
    bad_sig = bytearray(good)
    bad_sig[-1] ^= 1
    return [
        ("malformed", b"\x01\x02garbage", 400, "malformed"),
        ("wrong chain", _sign(me, nonce, chain_id="other-chain"), 400, "wrong_chain"),
        ("bad signature", bytes(bad_sig), 400, "bad_signature"),
        ("unknown sender", _sign(SUITE.generate(), 0), 403, "unknown_sender"),
        ("inactive sender", _sign(acc["gone"], 0), 403, "inactive_sender"),
        ("expired", _sign(me, nonce, expiry=0), 400, "expired"),
        ("gas too high", _sign(me, nonce, gas_limit=10**15), 400, "gas_limit_out_of_bounds"),
        ("gas too low", _sign(me, nonce, gas_limit=10), 400, "gas_limit_out_of_bounds"),
        ("nonce too high", _sign(me, nonce + 1_000_000), 400, "nonce_too_high"),
        ("unknown target", _sign(me, nonce, target="nosuchapp"), 400, "unknown_target"),
        (
            "permission denied",
            _sign(acc["reader"], 0, args=encode_args({"key": "r", "value": "v"})),
            403,
            "permission_denied",
        ),
        (
            "args too large",
            _sign(
                me,
                nonce,
                args=encode_args({"key": "big", "value": "x" * 20_000}),
                gas_limit=10_000_000,
            ),
            413,
            "args_too_large",
        ),
        ("invalid args", _sign(me, nonce, args=encode_args({"nope": 1})), 400, "invalid_args"),
    ]


def test_every_refusal_has_its_code_and_status(live_node: Any, accounts: Any) -> None:
    url = live_node.url
    cases = _cases(url, accounts)
    for name, raw, status, reason in cases:
        got, doc = _submit(url, raw)
        assert (got, doc.get("reason"), doc.get("status")) == (status, reason, status), name
        assert doc["title"] == "Transaction refused" and doc["detail"], name
        assert Refusal(reason).status == status  # the table the node answers from
    # The batch endpoint names the same codes, one per transaction.
    r = httpx.post(
        f"{url}/v1/transactions/batch", json={"txs": [raw.hex() for _, raw, _, _ in cases]}
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["error"]["reason"] for x in results] == [reason for _, _, _, reason in cases]


def test_pool_refusals_have_their_codes(live_node: Any, accounts: Any) -> None:
    url = live_node.url
    me = accounts["active"]
    nonce = _nonce(url, address_of(SUITE, me.public_key))
    ahead = _sign(me, nonce + 5)  # stays pending behind the gap
    assert _submit(url, ahead)[0] == 202
    status, doc = _submit(url, ahead)
    assert (status, doc["reason"]) == (409, "duplicate")
    other = _sign(me, nonce + 5, args=encode_args({"key": "other", "value": "v"}))
    status, doc = _submit(url, other)
    assert (status, doc["reason"]) == (409, "nonce_taken")
    for n in range(nonce, nonce + 5):  # fill the gap, so nothing stays pending
        _commit(url, _sign(me, n, args=encode_args({"key": f"fill{n}", "value": "v"})))
    status, doc = _submit(url, _sign(me, 0))
    assert (status, doc["reason"]) == (400, "nonce_too_low")


def test_the_sdk_parses_the_codes(live_node: Any, accounts: Any) -> None:
    gone = accounts["gone"]
    with Client(live_node.url, key=Signer(gone)) as c, pytest.raises(ApiError) as info:
        c.send("kv", "put", {"key": "x", "value": "y"}, wait=False)
    assert info.value.refusal is Refusal.INACTIVE_SENDER and info.value.status == 403
    assert "deactivated" in info.value.detail
    stranger = Signer(SUITE.generate())
    with Client(live_node.url, key=stranger) as c, pytest.raises(ApiError) as info:
        c.send("kv", "put", {"key": "x", "value": "y"}, wait=False)
    assert info.value.reason is Refusal.UNKNOWN_SENDER and info.value.status == 403
