"""Trace routes against a live node: capture, bodies, proofs, history, EPCIS errors."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from xinlian.codec import decode
from xinlian.crypto import get_suite
from xinlian.gs1.epcis import namespaces_of
from xinlian.gs1.eventhash import event_hash
from xinlian.sdk import Client, Signer
from xinlian.sdk import trace as sdk_trace
from xinlian.sdk.trace_sample import SampleChain, food_chain
from xinlian.types import SignedTransaction
from xinlian.types.trace import CaptureArgs

ROLE_ORG = {
    "producer": "org1",
    "inspector": "org2",
    "processor": "org2",
    "distributor": "org3",
    "retailer": "org3",
}


def _client(live_node: Any, name: str) -> Client:
    key = Signer.from_file(live_node.layout.key_dir / f"{name}.key")
    return Client(live_node.url, key=key, genesis=live_node.layout.genesis, timeout=30)


@pytest.fixture(scope="module")
def captured(live_node: Any) -> SampleChain:
    """The sample chain set up and captured on the live node (org1..org3 share roles)."""
    chain = food_chain(77, lots=2, jars_per_case=3, cases=2, orgs=ROLE_ORG)
    roles: dict[str, set[str]] = defaultdict(set)
    prefixes: dict[str, set[str]] = defaultdict(set)
    for p in chain.parties:
        roles[p.org].add(p.role)
        prefixes[p.org].add(p.prefix)
    with _client(live_node, "regulator") as c:
        for org in sorted(roles):
            r = sdk_trace.set_participant(c, org, sorted(roles[org]), sorted(prefixes[org]))
            assert r.receipt is not None and r.receipt.ok, r
    for p in chain.parties:
        with _client(live_node, f"{p.org}-admin") as c:
            for location, name in p.locations:
                assert sdk_trace.register_location(c, location, name).receipt.ok  # type: ignore[union-attr]
    for capture in chain.captures[:-1]:  # the retail document is captured by the EPCIS route
        with _client(live_node, f"{capture.org}-writer") as c:
            (r,) = sdk_trace.capture(c, capture.document)
            assert r.receipt is not None and r.receipt.ok, (capture.label, r)
    return chain


def _signed_capture(live_node: Any, name: str, args: bytes) -> str:
    signer = Signer.from_file(live_node.layout.key_dir / f"{name}.key")
    status = httpx.get(f"{live_node.url}/v1/status", timeout=30).json()
    nonce = httpx.get(f"{live_node.url}/v1/accounts/{signer.address}", timeout=30).json()["nonce"]
    stx = signer.build(
        chain_id=status["chain_id"],
        nonce=nonce,
        target="trace",
        method="capture",
        args=args,
        gas_limit=5_000_000,
        expiry=status["height"] + 100,
    )
    return stx.raw.hex()


def _signed_upload(
    live_node: Any,
    name: str,
    body: Any,
    *,
    time_ms: int | None = None,
    path: str = "/v1/trace/documents",
    tamper: bool = False,
) -> httpx.Response:
    signer = Signer.from_file(live_node.layout.key_dir / f"{name}.key")
    content = json.dumps(body).encode()
    headers = signer.sign_upload(
        chain_id="xinlian-dev",
        path=path,
        body=content,
        time_ms=int(time.time() * 1000) if time_ms is None else time_ms,
    )
    headers["Content-Type"] = "application/json"
    sent = content + b" " if tamper else content
    return httpx.post(
        f"{live_node.url}/v1/trace/documents", content=sent, headers=headers, timeout=30
    )


def test_storing_bodies_needs_a_signed_request_by_a_writer(
    live_node: Any, captured: SampleChain
) -> None:
    """Nobody can fill a node's disk anonymously: an upload is signed by a registered
    writer over the chain, path, time and body."""
    doc = {"document": captured.captures[0].document}
    url = f"{live_node.url}/v1/trace/documents"
    r = httpx.post(url, json=doc, timeout=30)
    assert (r.status_code, r.json()["reason"]) == (401, "unauthenticated")
    assert r.headers["Content-Type"].startswith("application/problem+json")
    r = _signed_upload(live_node, "org1-writer", doc, tamper=True)
    assert (r.status_code, r.json()["reason"]) == (401, "bad_signature")
    r = _signed_upload(live_node, "org1-writer", doc, path="/v1/trace/capture")
    assert (r.status_code, r.json()["reason"]) == (401, "bad_signature")
    r = _signed_upload(live_node, "org1-writer", doc, time_ms=int(time.time() * 1000) - 600_000)
    assert (r.status_code, r.json()["reason"]) == (401, "stale_request")
    r = _signed_upload(live_node, "org1-reader", doc)
    assert (r.status_code, r.json()["reason"]) == (403, "permission_denied")
    stranger = Signer.generate()
    content = json.dumps(doc).encode()
    headers = stranger.sign_upload(
        chain_id="xinlian-dev",
        path="/v1/trace/documents",
        body=content,
        time_ms=int(time.time() * 1000),
    )
    r = httpx.post(url, content=content, headers=headers, timeout=30)
    assert (r.status_code, r.json()["reason"]) == (403, "unknown_sender")
    r = _signed_upload(live_node, "org1-writer", doc)
    assert r.status_code == 200, r.text
    assert r.json()["hashes"] == sdk_trace.plan_capture(doc["document"]).hashes


def test_epcis_capture_route_and_status(live_node: Any, captured: SampleChain) -> None:
    retail = captured.captures[-1]
    plan = sdk_trace.plan_capture(retail.document)
    url = f"{live_node.url}/v1/trace/capture"
    wrong = sdk_trace.plan_capture(captured.captures[0].document).raw_args()
    r = httpx.post(url, json={"document": retail.document,
                              "tx": _signed_capture(live_node, "org3-writer", wrong)},
                   timeout=30)  # fmt: skip
    assert r.status_code == 400 and r.json()["reason"] == "tx_mismatch"
    tx = _signed_capture(live_node, "org3-writer", plan.raw_args())
    r = httpx.post(url, json={"document": retail.document, "tx": tx}, timeout=30)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["hashes"] == plan.hashes
    assert decode(decode(bytes.fromhex(tx), SignedTransaction).tx.args, CaptureArgs) == plan.args
    for _ in range(200):
        status = httpx.get(f"{url}/{body['capture_id']}", timeout=30).json()
        if status["status"] != "pending":
            break
        time.sleep(0.05)
    assert status["status"] == "committed" and status["hashes"] == plan.hashes


def test_event_body_and_proof(live_node: Any, captured: SampleChain) -> None:
    plan = sdk_trace.plan_capture(captured.captures[1].document)  # the inspections
    uri = plan.hashes[0]
    doc = httpx.get(f"{live_node.url}/v1/trace/events/{quote(uri, '')}", timeout=30).json()
    assert doc["hash_uri"] == uri and doc["org"] == "org2" and doc["biz_step"] == "inspecting"
    body = doc["body"]
    assert event_hash(body, namespaces_of(body)) == uri  # anyone holding the body can check
    proof = doc["proof"]
    suite = get_suite("ed25519")
    raw = bytes.fromhex(proof["tx_raw"])
    assert suite.hash(raw).hex() == proof["tx_hash"] == doc["anchor"]["tx_hash"]
    args = decode(decode(raw, SignedTransaction).tx.args, CaptureArgs)
    assert args.events[doc["anchor"]["index"]].hash.hex() == doc["hash"]
    assert proof["receipt"]["status"] == 0 and proof["header"]["height"] == proof["height"]
    same = httpx.get(f"{live_node.url}/v1/trace/events/{doc['hash']}", timeout=30).json()
    assert same["hash"] == doc["hash"]
    missing = httpx.get(f"{live_node.url}/v1/trace/events/{'0' * 64}", timeout=30)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_history_and_event_queries(live_node: Any, captured: SampleChain) -> None:
    with _client(live_node, "org1-reader") as c:
        h = sdk_trace.history(c, captured.consumer_scan, "upstream")
        lot_events = sdk_trace.item_events(c, captured.lots[0])
    relations = {i["id"]: i["relation"] for i in h["items"]}
    assert all(relations[lot] == "made_from" for lot in captured.lots)
    assert {e["biz_step"] for e in h["events"]} >= {"inspecting", "commissioning", "shipping"}
    assert [e["biz_step"] for e in lot_events["events"]] == [
        "commissioning", "inspecting", "shipping", "receiving", "commissioning",
    ]  # fmt: skip
    base = f"{live_node.url}/v1/trace"
    only = httpx.get(f"{base}/events", params={"epc": captured.lots[0], "bizStep": "inspecting"},
                     timeout=30).json()  # fmt: skip
    assert [e["org"] for e in only["events"]] == ["org2"]
    with_proofs = httpx.get(
        f"{base}/history",
        params={"id": captured.lots[0], "direction": "downstream", "proofs": "1"},
        timeout=30,
    ).json()
    txs = {e["anchor"]["tx_hash"] for e in with_proofs["events"]}
    assert txs == set(with_proofs["proofs"]) and len(with_proofs["events"]) > 5
    bad = httpx.get(f"{base}/history", params={"id": "x", "direction": "up"}, timeout=30)
    assert bad.status_code == 400 and "direction must be one of" in bad.json()["detail"]


def test_invalid_documents_name_the_field(live_node: Any, captured: SampleChain) -> None:
    doc = captured.captures[0].document
    broken = {**doc, "epcisBody": {"eventList": [dict(doc["epcisBody"]["eventList"][0],
                                                      action="MOVE")]}}  # fmt: skip
    r = httpx.post(f"{live_node.url}/v1/trace/validate", json=broken, timeout=30)
    assert r.status_code == 400 and r.json()["reason"] == "invalid_epcis"
    expected = {
        "field": "epcisBody.eventList[0].action",
        "reason": "'MOVE' is not one of 'OBSERVE', 'ADD', 'DELETE'",
    }
    assert expected in r.json()["errors"]
    ok = httpx.post(
        f"{live_node.url}/v1/trace/validate",
        content=json.dumps(doc),
        headers={"Content-Type": "application/ld+json"},
        timeout=30,
    ).json()
    assert [e["hash"] for e in ok["events"]] == sdk_trace.plan_capture(doc).hashes
    r = _signed_upload(live_node, "org1-writer", {"doc": doc})
    assert r.status_code == 400 and r.json()["reason"] == "bad_body"
    with pytest.raises(sdk_trace.EpcisError, match=r"epcisBody\.eventList\[0\]\.action"):
        sdk_trace.plan_capture(broken)


def test_events_verify_offline_against_the_genesis(live_node: Any, captured: SampleChain) -> None:
    from xinlian.sdk import load_genesis
    from xinlian.sdk.errors import VerificationError

    genesis = load_genesis(live_node.layout.genesis)
    plan = sdk_trace.plan_capture(captured.captures[2].document)  # the farm's shipments
    doc = httpx.get(f"{live_node.url}/v1/trace/events/{plan.events[1].hash.hex()}",
                    timeout=30).json()  # fmt: skip
    got = sdk_trace.verify_event(doc, genesis)
    assert got.hash_uri == plan.hashes[1] and got.index == 1
    assert got.tx_hash.hex() == doc["anchor"]["tx_hash"] and got.height == doc["anchor"]["height"]
    assert got.submitter == Signer.from_file(live_node.layout.key_dir / "org1-writer.key").address
    tampered = {**doc, "body": {**doc["body"], "bizStep": "receiving"}}
    with pytest.raises(VerificationError, match="check body failed: the body hashes to"):
        sdk_trace.verify_event(tampered, genesis)
    moved = {**doc, "anchor": {**doc["anchor"], "index": 0}}
    with pytest.raises(VerificationError, match="check transaction failed: event 0 of"):
        sdk_trace.verify_event(moved, genesis)
    other = genesis.__class__(**{**{f: getattr(genesis, f) for f in genesis.__struct_fields__},
                                 "validators": []})  # fmt: skip
    with pytest.raises(VerificationError, match="check inclusion failed"):
        sdk_trace.verify_event(doc, other)


def test_a_refused_capture_stores_no_bodies(live_node: Any, captured: SampleChain) -> None:
    """The capture route stores bodies only for a transaction the mempool accepted from a
    writer: a reader's capture is refused and leaves nothing on the node's disk."""
    other = food_chain(78, lots=1, jars_per_case=2, cases=1, orgs=ROLE_ORG)
    doc = other.captures[0].document
    plan = sdk_trace.plan_capture(doc)
    assert all(live_node.node.store.get(b"T/" + e.hash) is None for e in plan.events)
    tx = _signed_capture(live_node, "org1-reader", plan.raw_args())
    r = httpx.post(
        f"{live_node.url}/v1/trace/capture", json={"document": doc, "tx": tx}, timeout=30
    )
    assert (r.status_code, r.json()["reason"]) == (403, "permission_denied"), r.text
    assert all(live_node.node.store.get(b"T/" + e.hash) is None for e in plan.events)
