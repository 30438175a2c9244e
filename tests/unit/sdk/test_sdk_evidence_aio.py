"""The evidence methods of the async client match the blocking ones, against a live node."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from xinlian.crypto.timestamp import read_token
from xinlian.sdk import AsyncClient, Client, Signer, load_genesis
from xinlian.sdk.errors import NotFoundError, XinlianError
from xinlian.sdk.evidence import verify_receipt


async def test_async_evidence_methods(live_node: Any) -> None:
    key = Signer.from_file(live_node.layout.key_dir / "org2-writer.key")
    files = [b"async evidence %d" % i for i in range(5)]
    digests = [hashlib.sha256(f).digest() for f in files]
    parent = hashlib.sha256(b"async parent").digest()
    seen: list[int] = []
    async with AsyncClient(live_node.url, key=key, timeout=30) as c:
        (first,) = await c.anchor_evidence([parent], category="judicial", submitter_ref="p")
        results = await c.anchor_evidence(
            digests, category="judicial", parent=parent, meta={"k": "v"}, progress=seen.append
        )
        assert seen == [5] and all(r.receipt and r.receipt.ok for r in results)
        record = await c.get_evidence(digests[2])
        assert record is not None and record["index"] == 2 and record["parent"] == parent.hex()
        assert await c.get_evidence(hashlib.sha256(b"nope").digest()) is None
        chain = await c.evidence_custody(digests[2])
        assert [x["digest"] for x in chain] == [digests[2].hex(), parent.hex()]
        assert await c.evidence_custody(hashlib.sha256(b"nope").digest()) == []
        receipt = await c.evidence_receipt(digests[2])
        token = await c.evidence_timestamp(digests[2])
        plain = await c.evidence_timestamp(digests[2], nonce=False)
        mine = await c.evidence_by_submitter(key.address, 0, 100)
        assert mine["total"] >= 2 and mine["batches"][-1]["tx_hash"] == results[0].hash.hex()
        when = results[0].height
        block = await c.get_block(when)
        page = await c.evidence_by_category(
            "judicial", block.header.time_ms, block.header.time_ms, 10
        )
        assert [b["tx_hash"] for b in page["batches"]] == [results[0].hash.hex()]
        with pytest.raises(NotFoundError):
            await c.evidence_timestamp(hashlib.sha256(b"nope").digest())
        with pytest.raises(XinlianError, match="32 bytes"):
            await c.get_evidence(b"short")
    assert first.height < results[0].height
    got = verify_receipt(receipt, load_genesis(live_node.layout.genesis), files[2])
    assert got.height == results[0].height and got.parent == parent
    info = read_token(token)
    assert info.digest == digests[2] and info.gen_time_ms == block.header.time_ms
    assert info.nonce is not None and read_token(plain).nonce is None
    # The blocking client has the same methods with the same answers.
    with Client(live_node.url, timeout=30) as s:
        assert s.get_evidence(digests[2]) == record
        assert s.evidence_custody(digests[2]) == chain
        assert s.evidence_receipt(digests[2]) == receipt
        assert read_token(s.evidence_timestamp(digests[2])).gen_time_ms == info.gen_time_ms
        assert s.evidence_by_submitter(key.address)["total"] == mine["total"]
