"""The REST API against a live node: happy paths, proofs, and every kind of bad input."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from xinlian.codec import decode, encode, encode_args
from xinlian.crypto import address_of, get_suite
from xinlian.crypto.merkle import verify_merkle_proof
from xinlian.crypto.proofs import verify_state_proof
from xinlian.node.keys import read_key
from xinlian.types import BlockHeader, MerkleProof, Receipt, SignedTransaction, Transaction

SUITE = get_suite("ed25519")
WAIT_S = 20


def call(
    url: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, str, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
            return resp.status, resp.headers.get("Content-Type", ""), _parse(text)
    except urllib.error.HTTPError as err:
        text = err.read()
        return err.code, err.headers.get("Content-Type", ""), _parse(text)


def _parse(text: bytes) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text.decode()


class Sender:
    """Signs kv transactions for one account, tracking its nonce via the API."""

    def __init__(self, url: str, key_path: Any) -> None:
        self.kp = read_key(key_path)[0]
        self.address = address_of(SUITE, self.kp.public_key)
        _, _, doc = call(url, "GET", f"/v1/accounts/{self.address}")
        self.nonce = doc["nonce"]

    def tx(
        self,
        method: str = "put",
        args: dict[str, Any] | None = None,
        *,
        target: str = "kv",
        nonce: int | None = None,
        chain_id: str = "xinlian-dev",
        gas_limit: int = 200_000,
    ) -> bytes:
        if nonce is None:
            nonce = self.nonce
            self.nonce += 1
        tx = Transaction(
            chain_id,
            self.kp.public_key,
            nonce,
            target,
            method,
            encode_args(args if args is not None else {"key": "k", "value": "v"}),
            gas_limit,
            10**9,
        )
        return encode(SignedTransaction(tx, SUITE.sign(self.kp.private_key, encode(tx))))


def wait_committed(url: str, tx_hash: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        status, _, doc = call(url, "GET", f"/v1/transactions/{tx_hash}")
        if status == 200 and doc["status"] == "committed":
            return dict(doc)
        time.sleep(0.05)
    raise AssertionError(f"transaction {tx_hash} not committed within {WAIT_S}s")


@pytest.fixture(scope="module")
def writer(live_node: Any) -> Sender:
    return Sender(live_node.url, live_node.layout.key_dir / "org1-writer.key")


def test_submit_commit_and_prove(live_node: Any, writer: Sender) -> None:
    raw = writer.tx(args={"key": "api/answer", "value": "42"})
    status, ctype, doc = call(live_node.url, "POST", "/v1/transactions", {"tx": raw.hex()})
    assert status == 202, doc
    assert ctype.startswith("application/json")
    assert doc["hash"] == SUITE.hash(raw).hex()  # the client can compute the hash
    got = wait_committed(live_node.url, doc["hash"])
    assert got["raw"] == raw.hex()
    receipt = got["receipt"]
    assert receipt["status"] == 0 and receipt["error"] == ""
    assert receipt["events"] == [
        {"type": "kv.put", "attributes": {"key": "api/answer", "writer": writer.address}}
    ]
    proof = got["proof"]
    header = BlockHeader(
        **{
            k: bytes.fromhex(v) if isinstance(v, str) and k != "chain_id" else v
            for k, v in proof["header"].items()
        }
    )
    assert SUITE.hash(encode(header)).hex() == proof["block_hash"]
    tx_proof = MerkleProof(
        proof["tx_proof"]["index"],
        proof["tx_proof"]["size"],
        [bytes.fromhex(s) for s in proof["tx_proof"]["siblings"]],
    )
    assert verify_merkle_proof(SUITE.hash, header.tx_root, SUITE.hash(raw), tx_proof)
    receipt_obj = Receipt(
        bytes.fromhex(receipt["tx_hash"]), receipt["status"], receipt["gas_used"], [], "", b""
    )
    r_proof = MerkleProof(
        proof["receipt_proof"]["index"],
        proof["receipt_proof"]["size"],
        [bytes.fromhex(s) for s in proof["receipt_proof"]["siblings"]],
    )
    # The receipt as served must be exactly the committed one: a re-encoded copy with its
    # events dropped must not verify, the full one must.
    assert not verify_merkle_proof(SUITE.hash, header.receipts_root, encode(receipt_obj), r_proof)
    from xinlian.types import Event

    full = Receipt(
        receipt_obj.tx_hash,
        receipt_obj.status,
        receipt_obj.gas_used,
        [Event(e["type"], e["attributes"]) for e in receipt["events"]],
        "",
        b"",
    )
    assert verify_merkle_proof(SUITE.hash, header.receipts_root, encode(full), r_proof)
    # A committed signature verifies, and the header's commit names our block.
    assert proof["commit"]["block_hash"] == proof["block_hash"]
    decoded = decode(raw, SignedTransaction)
    assert decoded.tx.sender == writer.kp.public_key


def test_state_query_with_proof(live_node: Any, writer: Sender) -> None:
    raw = writer.tx(args={"key": "api/state", "value": "hello"})
    _, _, doc = call(live_node.url, "POST", "/v1/transactions", {"tx": raw.hex()})
    committed = wait_committed(live_node.url, doc["hash"])
    status, _, state = call(live_node.url, "GET", "/v1/state/kv/api/state")
    assert status == 200, state
    assert bytes.fromhex(state["value"]) == b"hello"
    assert state["height"] >= committed["height"]
    root = bytes.fromhex(state["header"]["state_root"])
    assert root.hex() == state["state_root"]
    from xinlian.types import StateProof, StateProofStep

    proof = StateProof(
        [
            StateProofStep(s["nibble"], [bytes.fromhex(c) for c in s["children"]])
            for s in state["proof"]["steps"]
        ],
        bytes.fromhex(state["proof"]["leaf_key_hash"]),
        bytes.fromhex(state["proof"]["leaf_value_hash"]),
    )
    assert verify_state_proof(SUITE.hash, root, b"kv/api/state", b"hello", proof)
    assert not verify_state_proof(SUITE.hash, root, b"kv/api/state", b"hellO", proof)
    # Absent key: an exclusion proof.
    status, _, absent = call(live_node.url, "GET", "/v1/state/kv/never-written")
    assert status == 200 and absent["value"] is None
    # Hex encoding of the same key gives the same answer.
    status, _, by_hex = call(
        live_node.url, "GET", f"/v1/state/{b'kv/api/state'.hex()}?encoding=hex"
    )
    assert status == 200 and by_hex["value"] == state["value"]


def test_batch_submission_reports_each_result(live_node: Any, writer: Sender) -> None:
    good = [writer.tx(args={"key": f"batch/{i}", "value": str(i)}) for i in range(5)]
    bad = bytearray(writer.tx(args={"key": "batch/bad", "value": "x"}))
    bad[-1] ^= 1  # breaks the signature
    writer.nonce -= 1
    status, _, doc = call(
        live_node.url,
        "POST",
        "/v1/transactions/batch",
        {"txs": [r.hex() for r in good] + [bytes(bad).hex()]},
    )
    assert status == 200, doc
    assert doc["accepted"] == 5
    assert doc["results"][-1]["error"]["reason"] == "bad_signature"
    for r in doc["results"][:5]:
        wait_committed(live_node.url, r["hash"])


def test_batch_msgpack(live_node: Any, writer: Sender) -> None:
    import msgspec

    raws = [writer.tx(args={"key": f"mp/{i}", "value": "v"}) for i in range(3)]
    status, _, doc = call(
        live_node.url,
        "POST",
        "/v1/transactions/batch",
        raw=msgspec.msgpack.encode(raws),
        content_type="application/msgpack",
    )
    assert status == 200 and doc["accepted"] == 3
    status, _, doc = call(
        live_node.url,
        "POST",
        "/v1/transactions/batch",
        raw=b"\xc1",
        content_type="application/msgpack",
    )
    assert status == 400 and doc["reason"] == "bad_body"


def _problem(status: int, ctype: str, doc: Any, expect: int, reason: str | None = None) -> None:
    assert status == expect, doc
    assert ctype.startswith("application/problem+json")
    assert doc["status"] == expect and doc["detail"]
    if reason is not None:
        assert doc["reason"] == reason, doc


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (b'{"tx": 5}', "bad_body"),
        (b'{"tx": "zz"}', "bad_hex"),
        (b'{"tx": "00"}', "malformed"),
        (b'{"txx": "00"}', "bad_body"),
    ],
)
def test_submit_rejects_malformed_input(live_node: Any, raw: bytes, reason: str) -> None:
    _problem(*call(live_node.url, "POST", "/v1/transactions", raw=raw), 400, reason)


def test_submit_rejects_bad_transactions(live_node: Any, writer: Sender) -> None:
    url = live_node.url
    wrong_chain = writer.tx(chain_id="other-chain", nonce=writer.nonce)
    _problem(*call(url, "POST", "/v1/transactions", {"tx": wrong_chain.hex()}), 400, "wrong_chain")
    stranger = SUITE.generate()
    tx = Transaction(
        "xinlian-dev",
        stranger.public_key,
        0,
        "kv",
        "put",
        encode_args({"key": "a", "value": "b"}),
        100_000,
        10**9,
    )
    raw = encode(SignedTransaction(tx, SUITE.sign(stranger.private_key, encode(tx))))
    status, ctype, doc = call(url, "POST", "/v1/transactions", {"tx": raw.hex()})
    _problem(status, ctype, doc, 403, "unknown_sender")
    assert "unknown sender" in doc["detail"]
    old = writer.tx(nonce=0)
    _problem(*call(url, "POST", "/v1/transactions", {"tx": old.hex()}), 400, "nonce_too_low")
    # A transaction one nonce ahead stays pending (nothing fills the gap yet), so sending it
    # again is a duplicate whatever the block timing; then fill the gap.
    ahead = writer.tx(args={"key": "dup", "value": "1"}, nonce=writer.nonce + 1)
    assert call(url, "POST", "/v1/transactions", {"tx": ahead.hex()})[0] == 202
    _problem(*call(url, "POST", "/v1/transactions", {"tx": ahead.hex()}), 409)
    gap = writer.tx(args={"key": "gap", "value": "1"})
    assert call(url, "POST", "/v1/transactions", {"tx": gap.hex()})[0] == 202
    writer.nonce += 1  # the pending one ahead takes the next nonce
    wait_committed(url, SUITE.hash(ahead).hex())
    low_gas = writer.tx(gas_limit=10, nonce=writer.nonce)
    status, ctype, doc = call(url, "POST", "/v1/transactions", {"tx": low_gas.hex()})
    _problem(status, ctype, doc, 400, "gas_limit_out_of_bounds")
    assert "intrinsic gas" in doc["detail"]


def test_oversized_and_wrong_media_type(live_node: Any) -> None:
    url = live_node.url
    big = b'{"tx": "' + b"00" * (live_node.node.config.api.max_body_bytes // 2 + 10) + b'"}'
    _problem(*call(url, "POST", "/v1/transactions", raw=big), 413)
    _problem(
        *call(url, "POST", "/v1/transactions", raw=b"x", content_type="text/plain"),
        415,
        "media_type",
    )


def test_missing_routes_and_methods(live_node: Any) -> None:
    _problem(*call(live_node.url, "GET", "/v1/nothing-here"), 404)
    _problem(*call(live_node.url, "DELETE", "/v1/status"), 405)
    _problem(*call(live_node.url, "GET", "/v1/transactions/abcd"), 400, "bad_hex")
    _problem(*call(live_node.url, "GET", "/v1/transactions/" + "00" * 32), 404, "not_found")


def test_blocks(live_node: Any, writer: Sender) -> None:
    raw = writer.tx(args={"key": "blk", "value": "1"})
    _, _, doc = call(live_node.url, "POST", "/v1/transactions", {"tx": raw.hex()})
    committed = wait_committed(live_node.url, doc["hash"])
    status, _, block = call(live_node.url, "GET", f"/v1/blocks/{committed['height']}")
    assert status == 200
    assert doc["hash"] in block["txs"]
    assert block["hash"] == committed["proof"]["block_hash"]
    _, _, same = call(live_node.url, "GET", f"/v1/blocks/by-hash/{block['hash']}")
    assert same["height"] == block["height"]
    _, _, latest = call(live_node.url, "GET", "/v1/blocks/latest")
    assert latest["height"] >= block["height"]
    _problem(*call(live_node.url, "GET", "/v1/blocks/0"), 404)
    _problem(*call(live_node.url, "GET", "/v1/blocks/abc"), 400, "bad_param")
    _problem(*call(live_node.url, "GET", "/v1/blocks/99999999"), 404)
    _problem(*call(live_node.url, "GET", "/v1/blocks/by-hash/" + "11" * 32), 404)


def test_query_accounts_events(live_node: Any, writer: Sender) -> None:
    url = live_node.url
    status, _, doc = call(
        url,
        "POST",
        "/v1/query",
        {"target": "identity", "method": "get_account", "args": {"address": writer.address}},
    )
    assert status == 200 and doc["result"]["roles"] == ["writer"]
    _problem(
        *call(url, "POST", "/v1/query", {"target": "kv", "method": "put", "args": {}}),
        400,
        "bad_query",
    )
    _problem(
        *call(url, "POST", "/v1/query", {"target": "kv", "method": "get", "args": {"key": 1.5}}),
        400,
        "bad_args",
    )
    status, _, acct = call(url, "GET", f"/v1/accounts/{writer.address}")
    assert status == 200 and acct["account"]["org"] == "org1"
    _problem(*call(url, "GET", "/v1/accounts/xyz"), 400, "bad_hex")
    raw = writer.tx(args={"key": "evt", "value": "1"})
    _, _, sub = call(url, "POST", "/v1/transactions", {"tx": raw.hex()})
    wait_committed(url, sub["hash"])
    status, _, evs = call(url, "GET", "/v1/events?type=kv.put&limit=1000")
    assert status == 200
    assert any(
        e["tx_hash"] == sub["hash"] and e["attributes"]["key"] == "evt" for e in evs["events"]
    )
    _problem(*call(url, "GET", "/v1/events"), 400, "bad_param")
    _problem(*call(url, "GET", "/v1/events?type=kv.put&limit=0"), 400, "bad_param")


def test_status_health_metrics_openapi(live_node: Any) -> None:
    url = live_node.url
    status, _, st = call(url, "GET", "/v1/status")
    assert status == 200 and st["chain_id"] == "xinlian-dev" and st["suite"] == "ed25519"
    assert call(url, "GET", "/healthz")[2]["status"] == "ok"
    status, ctype, text = call(url, "GET", "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert "xinlian_height" in text and "xinlian_txs_committed_total" in text
    status, _, spec = call(url, "GET", "/v1/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert "/v1/transactions" in spec["paths"]


def test_equivocations_are_listed_with_both_signed_messages(live_node: Any) -> None:
    from xinlian.protocol.equivocation import Equivocation, SignedPart
    from xinlian.types import Vote

    url, node = live_node.url, live_node.node
    # What the driver records when a validator's two conflicting precommits arrive (the
    # detection itself is tested in tests/unit/node/test_node_driver.py).
    kp = read_key(live_node.layout.node_homes[0] / "node.key")[0]
    parts = []
    for block_hash in (b"\x0a" * 32, b"\x0b" * 32):
        body = encode(Vote("xinlian-dev", 2, 9, 1, block_hash))
        parts.append(SignedPart(body, SUITE.sign(kp.private_key, body), block_hash))
    node.driver.equivocations.append(
        Equivocation(1_700_000_000_000, "precommit", 9, 1, 0, kp.public_key, *parts)
    )
    status, ctype, doc = call(url, "GET", "/v1/consensus/equivocations")
    assert status == 200 and ctype.startswith("application/json")
    found = doc["equivocations"][-1]
    assert {k: found[k] for k in ("kind", "height", "round", "validator_index")} == {
        "kind": "precommit",
        "height": 9,
        "round": 1,
        "validator_index": 0,
    }
    assert found["validator"] == kp.public_key.hex()
    for side in ("first", "second"):  # a reader checks the accusation on its own
        signed = bytes.fromhex(found[side]["signed"])
        signature = bytes.fromhex(found[side]["signature"])
        assert SUITE.verify(kp.public_key, signed, signature)
        assert decode(signed, Vote).block_hash.hex() == found[side]["block_hash"]
    assert found["first"]["block_hash"] != found["second"]["block_hash"]
    assert "/v1/consensus/equivocations" in call(url, "GET", "/v1/openapi.json")[2]["paths"]


async def test_websocket_streams_blocks(live_node: Any) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(live_node.url + "/v1/ws") as ws,
    ):
        msg = await ws.receive(timeout=WAIT_S)
        doc = json.loads(msg.data)
        assert doc["type"] == "block" and doc["height"] >= 1
        assert len(doc["hash"]) == 64


def test_a_long_query_gets_a_problem_document(live_node: Any) -> None:
    # 20 KB request line: beyond aiohttp's default 8 KiB, within the node's 32 KiB.
    url = f"{live_node.url}/v1/trace/history?id={'a' * 20_000}"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=30)
    assert caught.value.code == 400
    assert caught.value.headers["Content-Type"].startswith("application/problem+json")
    assert json.loads(caught.value.read())["reason"] == "bad_param"


def test_rule_breaking_transactions_are_refused_on_admission(
    live_node: Any, writer: Sender
) -> None:
    """A reader's write, an oversized value and arguments of the wrong shape are refused
    with 4xx before they reach a block: the nonce stays unused and nothing is stored."""
    url = live_node.url
    reader = Sender(url, live_node.layout.key_dir / "org1-reader.key")
    cases = [
        (reader, reader.tx(nonce=reader.nonce), 403, "permission_denied"),
        (
            writer,
            writer.tx(
                args={"key": "big", "value": "x" * 20_000}, nonce=writer.nonce, gas_limit=10**6
            ),
            413,
            "args_too_large",
        ),
        (
            writer,
            writer.tx(
                args={"key": "big", "value": "x" * 3_000_000}, nonce=writer.nonce, gas_limit=10**8
            ),
            413,
            "args_too_large",
        ),
        (writer, writer.tx(args={"key": "k"}, nonce=writer.nonce), 400, "invalid_args"),
        (
            writer,
            writer.tx(args={"key": "", "value": "v"}, nonce=writer.nonce),
            400,
            "invalid_args",
        ),
        (writer, writer.tx(method="nope", nonce=writer.nonce), 400, "unknown_target"),
        (writer, writer.tx(target="nope", nonce=writer.nonce), 400, "unknown_target"),
    ]
    for _, raw, status, reason in cases:
        _problem(*call(url, "POST", "/v1/transactions", {"tx": raw.hex()}), status, reason)
        assert call(url, "GET", f"/v1/transactions/{SUITE.hash(raw).hex()}")[0] == 404
    for sender in (reader, writer):
        assert call(url, "GET", f"/v1/accounts/{sender.address}")[2]["nonce"] == sender.nonce
    # The same sender's valid transaction with that nonce still goes through.
    ok = writer.tx(args={"key": "after", "value": "v"})
    status, _, doc = call(url, "POST", "/v1/transactions", {"tx": ok.hex()})
    assert status == 202
    assert wait_committed(url, doc["hash"])["receipt"]["status"] == 0


def test_events_page_inside_a_height_by_cursor(live_node: Any, writer: Sender) -> None:
    url = live_node.url
    start = call(url, "GET", "/v1/status")[2]["height"]
    txs = [writer.tx(args={"key": f"page/{i}", "value": str(i)}) for i in range(30)]
    _, _, doc = call(url, "POST", "/v1/transactions/batch", {"txs": [t.hex() for t in txs]})
    assert doc["accepted"] == 30, doc
    for r in doc["results"]:
        wait_committed(url, r["hash"])
    ours = {r["hash"] for r in doc["results"]}
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):  # one event per page: every block with two ends mid-height
        query = f"/v1/events?type=kv.put&limit=1&from_height={start}"
        status, _, page = call(url, "GET", query + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, page
        seen.extend(page["events"])
        cursor = page["next"]
        if cursor is None:
            break
    positions = [(e["height"], e["index"], e["event_index"]) for e in seen]
    assert positions == sorted(set(positions))  # in order, none twice
    mine = [e for e in seen if e["tx_hash"] in ours]
    assert sorted(e["attributes"]["key"] for e in mine) == sorted(f"page/{i}" for i in range(30))
    heights = [e["height"] for e in mine]
    assert len(set(heights)) < len(heights)  # some height held several: paged inside it
    for bad in ("1", "1.2", "a.b.c", "-1.0.0", "1.0.99999999"):
        _problem(*call(url, "GET", f"/v1/events?type=kv.put&cursor={bad}"), 400, "bad_param")


def test_path_parameters_and_big_integers_are_validated(live_node: Any) -> None:
    url = live_node.url
    for path in ("/v1/blocks/-1", "/v1/blocks/+1", "/v1/blocks/1.5", "/v1/blocks/%D9%A3"):
        _problem(*call(url, "GET", path), 400, "bad_param")
    _problem(*call(url, "GET", "/v1/transactions/zz"), 400, "bad_hex")
    _problem(*call(url, "GET", "/v1/evidence/zz"), 400)
    _problem(*call(url, "GET", "/v1/contracts/zz"), 400)
    for value in (2**64, -(2**63) - 1, 10**40):
        status, ctype, doc = call(
            url,
            "POST",
            "/v1/query",
            raw=b'{"target": "kv", "method": "get", "args": {"key": "k", "n": %d}}' % value,
        )
        _problem(status, ctype, doc, 400, "integer_out_of_range")
        assert "integer out of range" in doc["detail"] and "float" not in doc["detail"]
    # In range it is an integer (the method then refuses the unknown field), and a real
    # float is still refused as a float.
    status, ctype, doc = call(
        url,
        "POST",
        "/v1/query",
        {"target": "kv", "method": "get", "args": {"key": "k", "n": 2**64 - 1}},
    )
    _problem(status, ctype, doc, 400, "bad_query")
    status, ctype, doc = call(
        url, "POST", "/v1/query", {"target": "kv", "method": "get", "args": {"key": 1.5}}
    )
    _problem(status, ctype, doc, 400, "bad_args")
    assert "floats are not allowed" in doc["detail"]
    _problem(*call(url, "POST", "/v1/query", raw=b'{"target": NaN}'), 400, "bad_json")
