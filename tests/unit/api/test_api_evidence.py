"""Evidence routes against a live node: record, custody, receipt verified offline."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from xinlian.sdk import Client, Signer, load_genesis
from xinlian.sdk.evidence import anchor, fetch_receipt, get_evidence, verify_receipt


def _client(live_node: Any) -> Client:
    key = Signer.from_file(live_node.layout.key_dir / "org1-writer.key")
    return Client(live_node.url, key=key, genesis=live_node.layout.genesis, timeout=30)


def test_anchor_then_receipt_verifies_offline(live_node: Any) -> None:
    files = [b"api evidence file %d" % i for i in range(3)]
    digests = [hashlib.sha256(f).digest() for f in files]
    with _client(live_node) as c:
        (sent,) = anchor(c, digests, category="registration", submitter_ref="deed 9")
        assert sent.receipt is not None and sent.receipt.ok, sent
        record = get_evidence(c, digests[1])
        receipt = fetch_receipt(c, digests[1])
    assert record is not None and record["index"] == 1 and record["tx_hash"] == sent.hash.hex()
    genesis = load_genesis(live_node.layout.genesis)
    got = verify_receipt(receipt, genesis, files[1])
    assert got.height == sent.height and got.category == "registration"
    assert got.submitter_ref == "deed 9" and got.batch_size == 3
    raw = httpx.get(f"{live_node.url}/v1/evidence/{digests[1].hex()}/receipt", timeout=30).json()
    assert raw["version"] == 1 and raw["digest"] == digests[1].hex()
    assert verify_receipt(raw, genesis, files[1]).tx_hash == sent.hash


def test_big_input_is_split_and_each_digest_gets_a_receipt(live_node: Any) -> None:
    digests = [hashlib.sha256(b"bulk %d" % i).digest() for i in range(4000)]
    with _client(live_node) as c:
        results = anchor(c, digests, category="other")
        assert len(results) == 3 and all(r.receipt and r.receipt.ok for r in results)
        last = fetch_receipt(c, digests[-1])
    genesis = load_genesis(live_node.layout.genesis)
    assert verify_receipt(last, genesis, digest=digests[-1]).tx_hash == results[-1].hash


def test_custody_and_errors(live_node: Any) -> None:
    parent = hashlib.sha256(b"api parent").digest()
    child = hashlib.sha256(b"api child").digest()
    with _client(live_node) as c:
        anchor(c, [parent], category="enforcement")
        anchor(c, [child], category="enforcement", parent=parent)
    base = f"{live_node.url}/v1/evidence"
    doc = httpx.get(f"{base}/{child.hex()}/custody", timeout=30).json()
    assert [x["digest"] for x in doc["custody"]] == [child.hex(), parent.hex()]
    assert httpx.get(f"{base}/{child.hex()}", timeout=30).json()["parent"] == parent.hex()
    unknown = hashlib.sha256(b"never").hexdigest()
    for path in (unknown, f"{unknown}/receipt", f"{unknown}/custody"):
        r = httpx.get(f"{base}/{path}", timeout=30)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = httpx.get(f"{base}/zz/receipt", timeout=30)
    assert r.status_code == 400 and r.json()["reason"] == "bad_hex"
