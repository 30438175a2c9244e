"""The evidence app: anchoring batches, validation, duplicates, queries, limits, gas."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace
from typing import Any

import pytest

from xinlian.apps import evidence
from xinlian.codec import decode, encode
from xinlian.crypto.merkle import merkle_root
from xinlian.types import TxStatus


def d(i: int | str) -> bytes:
    return hashlib.sha256(str(i).encode()).digest()


def anchor_args(digests: list[bytes], **kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "digests": digests,
        "category": "judicial",
        "submitter_ref": "case-1",
        "parent": None,
        "meta": {},
    }
    args.update(kw)
    return args


def anchor(world: Any, digests: list[bytes], who: str = "writer_a", **kw: Any) -> Any:
    return world.call(who, "evidence", "anchor", anchor_args(digests, **kw))


def test_anchor_batch_records_every_digest(world: Any, helpers: SimpleNamespace) -> None:
    digests = [d(i) for i in range(5)]
    r = anchor(world, digests, meta={"court": "Hangzhou"})
    assert r.status == TxStatus.OK, r.error
    root = merkle_root(helpers.SUITE.hash, digests)
    (event,) = r.events
    assert event.type == "evidence.anchored"
    assert event.attributes == {
        "batch_root": root.hex(),
        "count": "5",
        "new": "5",
        "category": "judicial",
        "submitter": helpers.address("writer_a"),
    }
    assert decode(r.output, dict)["batch_root"] == root
    for i, digest in enumerate(digests):
        rec = world.query("evidence", "get", {"digest": digest})
        assert rec["index"] == i and rec["root"] == root and rec["count"] == 5
        assert rec["tx_hash"] == r.tx_hash and rec["height"] == world.height
        assert rec["submitter"] == helpers.address("writer_a")
        assert rec["category"] == "judicial" and rec["meta"] == {"court": "Hangzhou"}
    assert world.query("evidence", "get", {"digest": d("absent")}) is None


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"digests": []}, "1-100000 digests"),
        ({"digests": [b"short"]}, "digests[0] must be 32 bytes"),
        ({"digests": [d(1), d(1)]}, "appears twice"),
        ({"category": "gossip"}, "unknown category"),
        ({"submitter_ref": "x" * 129}, "submitter_ref longer"),
        ({"meta": {str(i): "v" for i in range(17)}}, "meta has 17 entries"),
        ({"meta": {"k": "v" * 257}}, "meta keys"),
        ({"parent": d("never anchored")}, "is not anchored"),
        ({"parent": b"\x01"}, "parent must be 32 bytes"),
    ],
)
def test_bad_arguments_are_refused(world: Any, kw: dict[str, Any], needle: str) -> None:
    args = anchor_args([d("x")])
    args.update(kw)
    r = world.call("writer_a", "evidence", "anchor", args)
    assert r.status == TxStatus.INVALID_ARGS and needle in r.error
    assert not any(k.startswith(b"evidence/") for k in world.state)


def test_only_writers_anchor(world: Any) -> None:
    r = anchor(world, [d(1)], who="reader_a")
    assert r.status == TxStatus.PERMISSION_DENIED
    assert anchor(world, [d(1)], who="admin_a").status == TxStatus.OK


def test_missing_field_is_invalid_args(world: Any) -> None:
    r = world.call("writer_a", "evidence", "anchor", {"digests": [d(1)], "category": "other"})
    assert r.status == TxStatus.INVALID_ARGS


def test_reanchoring_keeps_the_first_anchor(world: Any) -> None:
    first = anchor(world, [d(1)])
    again = anchor(world, [d(2), d(1)], who="writer_b", category="other")
    assert again.status == TxStatus.OK
    assert again.events[0].attributes["new"] == "1"
    assert again.events[0].attributes["count"] == "2"
    rec = world.query("evidence", "get", {"digest": d(1)})
    assert rec["tx_hash"] == first.tx_hash and rec["category"] == "judicial"
    assert world.query("evidence", "get", {"digest": d(2)})["index"] == 0


def test_chain_of_custody_follows_parents(world: Any) -> None:
    anchor(world, [d("seized")], category="enforcement")
    anchor(world, [d("copy")], parent=d("seized"), category="enforcement")
    anchor(world, [d("report"), d("annex")], parent=d("copy"))
    chain = world.query("evidence", "custody", {"digest": d("report")})
    assert [c["digest"] for c in chain] == [d("report"), d("copy"), d("seized")]
    assert chain[0]["parent"] == d("copy") and chain[-1]["parent"] is None
    assert world.query("evidence", "custody", {"digest": d("nothing")}) == []


def test_by_submitter_pages(world: Any, helpers: SimpleNamespace) -> None:
    hashes = [anchor(world, [d(i)]).tx_hash for i in range(3)]
    anchor(world, [d("b")], who="writer_b")
    addr = helpers.address("writer_a")
    page = world.query("evidence", "by_submitter", {"address": addr, "start": 1, "limit": 5})
    assert page["total"] == 3 and [b["tx_hash"] for b in page["batches"]] == hashes[1:]
    other = world.query(
        "evidence", "by_submitter", {"address": helpers.address("writer_b"), "start": 0, "limit": 5}
    )
    assert other["total"] == 1


def test_by_category_time_range_and_cursor(world: Any) -> None:
    hashes = [anchor(world, [d(i)], category="registration").tx_hash for i in range(5)]
    anchor(world, [d("j")], category="judicial")
    lo = world.query("evidence", "get", {"digest": d(1)})["time_ms"]
    hi = world.query("evidence", "get", {"digest": d(4)})["time_ms"]
    q = {"category": "registration", "from_ms": lo, "to_ms": hi, "limit": 2, "cursor": ""}
    seen: list[bytes] = []
    for _ in range(10):
        page = world.query("evidence", "by_category", q)
        seen += [b["tx_hash"] for b in page["batches"]]
        if not page["next"]:
            break
        q["cursor"] = page["next"]
    assert seen == hashes[1:5]
    wide = {"category": "other", "from_ms": 0, "to_ms": 400 * evidence.DAY_MS, "limit": 1}
    with pytest.raises(Exception, match="366 days"):
        world.query("evidence", "by_category", {**wide, "cursor": ""})


def test_gas_grows_with_the_batch(world: Any) -> None:
    small = anchor(world, [d(i) for i in range(1)])
    big = anchor(world, [d(i) for i in range(100, 200)])
    assert big.gas_used > small.gas_used + 100 * evidence.GAS_PER_DIGEST


def test_100k_digests_in_one_call_within_the_default_limits(world: Any) -> None:
    params = world.genesis.params
    digests = [d(i) for i in range(evidence.MAX_DIGESTS)]
    env = world.tx(
        "writer_a", "evidence", "anchor", anchor_args(digests), gas_limit=params.max_gas_per_tx
    )
    assert len(env.raw) <= params.max_tx_bytes <= params.max_block_bytes
    (r,) = world.run([env]).receipts
    assert r.status == TxStatus.OK, r.error
    assert r.gas_used <= params.max_gas_per_tx
    assert r.events[0].attributes["count"] == "100000"
    assert world.query("evidence", "get", {"digest": digests[-1]})["index"] == 99_999
    assert len(encode(r.events)) < 300  # one event for the whole batch
