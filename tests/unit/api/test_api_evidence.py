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
    assert (
        raw["version"] == 2 and raw["validator_changes"] == [] and raw["digest"] == digests[1].hex()
    )
    assert verify_receipt(raw, genesis, files[1]).tx_hash == sent.hash


def test_100k_digests_in_one_transaction_and_a_receipt_verifies_offline(live_node: Any) -> None:
    """Issue 4: 100,000 digests in one call, under the default chain and API limits."""
    digests = [hashlib.sha256(b"bulk %d" % i).digest() for i in range(100_000)]
    seen: list[int] = []
    with _client(live_node) as c:
        results = anchor(c, digests, category="other", progress=seen.append)
        assert len(results) == 1 and seen == [100_000]
        (sent,) = results
        assert sent.receipt is not None and sent.receipt.ok, sent
        assert sent.receipt.events[0].attributes["count"] == "100000"
        receipt = fetch_receipt(c, digests[77_777])
    genesis = load_genesis(live_node.layout.genesis)
    got = verify_receipt(receipt, genesis, digest=digests[77_777])
    assert got.tx_hash == sent.hash and (got.batch_index, got.batch_size) == (77_777, 100_000)


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


def test_list_by_submitter_and_by_category(live_node: Any) -> None:
    digest = hashlib.sha256(b"listed deed").digest()
    key = Signer.from_file(live_node.layout.key_dir / "org3-admin.key")
    with Client(live_node.url, key=key, timeout=30) as c:
        (sent,) = anchor(c, [digest], category="registration", submitter_ref="deed 1")
        time_ms = c.get_block(sent.height).header.time_ms
    base = f"{live_node.url}/v1/evidence"
    mine = httpx.get(base, params={"submitter": key.address}, timeout=30).json()
    assert mine["total"] == 1 and mine["batches"][0]["tx_hash"] == sent.hash.hex()
    page = httpx.get(
        base, params={"category": "registration", "from_ms": time_ms, "to_ms": time_ms}, timeout=30
    ).json()
    assert [b["tx_hash"] for b in page["batches"]] == [sent.hash.hex()] and page["next"] == ""
    for params in (
        {},
        {"submitter": key.address, "category": "other"},
        {"category": "other", "from_ms": 0},
        {"category": "bogus", "from_ms": 0, "to_ms": 1},
        {"category": "other", "from_ms": 0, "to_ms": 400 * 86_400_000},
        {"submitter": key.address, "limit": 0},
        {"submitter": key.address, "from_ms": ""},  # unused by this query, still refused
        {"submitter": key.address, "to_ms": "-1"},
    ):
        r = httpx.get(base, params=params, timeout=30)
        assert r.status_code == 400, (params, r.text)
