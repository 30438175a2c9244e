"""The ledger: staging blocks atomically, reads by height/hash/tx, events, Merkle proofs."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from xinlian.codec import encode
from xinlian.crypto.merkle import merkle_root, verify_merkle_proof
from xinlian.ledger import BlockRecord, Ledger, LedgerError, NotFound
from xinlian.storage import MemoryStore, WriteBatch
from xinlian.types import (
    BlockHeader,
    Commit,
    CommitSig,
    Event,
    Receipt,
    SignedTransaction,
    TxEnvelope,
    TxStatus,
)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


class Chain:
    """A ledger over a MemoryStore plus what was written, for checking reads."""

    def __init__(self, helpers: SimpleNamespace) -> None:
        self.helpers = helpers
        self.store = MemoryStore()
        self.ledger = Ledger(self.store, sha256)
        batch = WriteBatch()
        self.ledger.stage_genesis(b'{"chain_id": "xl"}', batch)
        self.store.write(batch)
        self.headers: dict[int, BlockHeader] = {}
        self.envs: dict[int, list[TxEnvelope]] = {}
        self.receipts: dict[int, list[Receipt]] = {}
        self.prev = b"\x00" * 32

    def add_block(self, height: int, events_per_tx: list[list[Event]]) -> BlockHeader:
        envs = [
            self.helpers.sign_tx(
                self.helpers.keypair(f"sender{height}-{i}"),
                args={"key": f"h{height}", "value": str(i)},
            )
            for i in range(len(events_per_tx))
        ]
        receipts = [
            Receipt(e.hash, int(TxStatus.OK), 1000 + i, evs, "", b"")
            for i, (e, evs) in enumerate(zip(envs, events_per_tx, strict=True))
        ]
        header = BlockHeader(
            chain_id="xl",
            height=height,
            time_ms=1000 * height,
            prev_hash=self.prev,
            tx_root=merkle_root(sha256, [e.hash for e in envs]),
            state_root=b"\x11" * 32,
            receipts_root=merkle_root(sha256, [encode(r) for r in receipts]),
            validators_hash=b"\x22" * 32,
            next_validators_hash=b"\x22" * 32,
            proposer=b"\x33" * 32,
        )
        block_hash = sha256(encode(header))
        commit = Commit(height, 0, block_hash, [CommitSig(0, b"\x44" * 64)])
        batch = WriteBatch()
        self.ledger.stage_block(
            header,
            block_hash,
            commit,
            [e.raw for e in envs],
            [e.hash for e in envs],
            receipts,
            batch,
        )
        self.store.write(batch)
        self.headers[height] = header
        self.envs[height] = envs
        self.receipts[height] = receipts
        self.prev = block_hash
        return header


def ev(kind: str, n: int) -> Event:
    return Event(kind, {"n": str(n)})


@pytest.fixture
def chain(helpers: SimpleNamespace) -> Chain:
    c = Chain(helpers)
    c.add_block(1, [[ev("kv.put", 1)], [ev("kv.put", 2), ev("kv.delete", 3)], []])
    c.add_block(2, [])
    c.add_block(3, [[ev("kv.put", 4), ev("kv.put", 5)], [ev("kv.put2", 6)]])
    c.add_block(256, [[ev("kv.put", 7)]])
    return c


# ---------------------------------------------------------------------------------------
# staging and heights
# ---------------------------------------------------------------------------------------


def test_height_before_and_after_genesis() -> None:
    store = MemoryStore()
    ledger = Ledger(store, sha256)
    assert ledger.height() == -1
    assert ledger.genesis_json() is None
    batch = WriteBatch()
    ledger.stage_genesis(b"{}", batch)
    assert ledger.height() == -1  # staged, not written
    store.write(batch)
    assert ledger.height() == 0
    assert ledger.genesis_json() == b"{}"


def test_staged_block_is_invisible_until_written(helpers: SimpleNamespace) -> None:
    c = Chain(helpers)
    header = c.add_block(1, [[]])
    batch = WriteBatch()
    h2 = BlockHeader("xl", 2, 2000, b"", b"", b"", b"", b"", b"", b"")
    c.ledger.stage_block(h2, b"\x02" * 32, Commit(2, 0, b"", []), [], [], [], batch)
    assert c.ledger.height() == 1
    with pytest.raises(NotFound):
        c.ledger.header(2)
    assert c.ledger.header(1) == header
    assert len(batch) > 0


def test_stage_block_needs_matching_lengths(helpers: SimpleNamespace) -> None:
    c = Chain(helpers)
    h = BlockHeader("xl", 1, 1, b"", b"", b"", b"", b"", b"", b"")
    with pytest.raises(ValueError, match="zip"):
        c.ledger.stage_block(h, b"h", Commit(1, 0, b"h", []), [b"raw"], [], [], WriteBatch())


def test_latest_height(chain: Chain) -> None:
    assert chain.ledger.height() == 256


# ---------------------------------------------------------------------------------------
# reads
# ---------------------------------------------------------------------------------------


def test_header_commit_and_hash_lookup(chain: Chain) -> None:
    for height, header in chain.headers.items():
        assert chain.ledger.header(height) == header
        block_hash = sha256(encode(header))
        assert chain.ledger.height_of(block_hash) == height
        commit = chain.ledger.commit(height)
        assert commit == Commit(height, 0, block_hash, [CommitSig(0, b"\x44" * 64)])


def test_block_record(chain: Chain) -> None:
    header = chain.headers[1]
    assert chain.ledger.block(1) == BlockRecord(
        header,
        sha256(encode(header)),
        chain.ledger.commit(1),
        [e.hash for e in chain.envs[1]],
    )
    assert chain.ledger.block(2).tx_hashes == []
    assert chain.ledger.block(256).tx_hashes == [chain.envs[256][0].hash]


def test_block_txs_and_receipts_by_height(chain: Chain) -> None:
    for height in chain.headers:
        assert chain.ledger.block_txs(height) == [e.stx for e in chain.envs[height]]
        assert chain.ledger.receipts(height) == chain.receipts[height]
    assert chain.ledger.block_txs(4) == []
    assert chain.ledger.receipts(4) == []


def test_tx_by_hash(chain: Chain) -> None:
    for height, envs in chain.envs.items():
        for index, e in enumerate(envs):
            assert chain.ledger.has_tx(e.hash)
            record = chain.ledger.tx(e.hash)
            assert record.tx == e.stx
            assert isinstance(record.tx, SignedTransaction)
            assert record.raw == e.raw
            assert (record.height, record.index) == (height, index)
            assert record.receipt == chain.receipts[height][index]
    assert not chain.ledger.has_tx(b"\x99" * 32)


def test_not_found_messages(chain: Chain) -> None:
    unknown = b"\xab" * 32
    with pytest.raises(NotFound, match=r"^no block at height 4$"):
        chain.ledger.header(4)
    with pytest.raises(NotFound, match=r"^no commit for height 5$"):
        chain.ledger.commit(5)
    with pytest.raises(NotFound, match=f"^no block with hash {unknown.hex()}$"):
        chain.ledger.height_of(unknown)
    with pytest.raises(NotFound, match=f"^no committed transaction {unknown.hex()}$"):
        chain.ledger.tx(unknown)
    with pytest.raises(NotFound, match=r"^no committed transaction"):
        chain.ledger.tx_proof(unknown)
    with pytest.raises(NotFound, match=r"^no committed transaction"):
        chain.ledger.receipt_proof(unknown)
    with pytest.raises(NotFound, match=r"^no block at height 0$"):
        chain.ledger.block(0)
    assert issubclass(NotFound, LedgerError)


# ---------------------------------------------------------------------------------------
# proofs
# ---------------------------------------------------------------------------------------


def test_tx_and_receipt_proofs_verify_against_header_roots(chain: Chain) -> None:
    for height, envs in chain.envs.items():
        header = chain.ledger.header(height)
        for index, e in enumerate(envs):
            h, proof = chain.ledger.tx_proof(e.hash)
            assert (h, proof.index, proof.size) == (height, index, len(envs))
            assert verify_merkle_proof(sha256, header.tx_root, e.hash, proof)
            assert not verify_merkle_proof(sha256, header.receipts_root, e.hash, proof)
            h, rproof = chain.ledger.receipt_proof(e.hash)
            assert h == height
            leaf = encode(chain.receipts[height][index])
            assert verify_merkle_proof(sha256, header.receipts_root, leaf, rproof)
            other = (index + 1) % len(envs)
            if other != index:
                wrong = encode(chain.receipts[height][other])
                assert not verify_merkle_proof(sha256, header.receipts_root, wrong, rproof)


def test_empty_block_roots(chain: Chain) -> None:
    assert chain.ledger.header(2).tx_root == sha256(b"")


# ---------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------


def events(chain: Chain, kind: str, **kw: int) -> list[tuple[int, int, str]]:
    """(height, position of the tx in its block, the event's n) for compact comparison."""
    out = []
    for height, tx_hash, event in chain.ledger.events(kind, **kw):
        index = [e.hash for e in chain.envs[height]].index(tx_hash)
        assert event.type == kind
        out.append((height, index, event.attributes["n"]))
    return out


def test_events_by_type_in_order(chain: Chain) -> None:
    assert events(chain, "kv.put") == [
        (1, 0, "1"),
        (1, 1, "2"),
        (3, 0, "4"),
        (3, 0, "5"),
        (256, 0, "7"),
    ]
    assert events(chain, "kv.delete") == [(1, 1, "3")]
    assert events(chain, "kv.put2") == [(3, 1, "6")]
    assert events(chain, "kv") == []
    assert events(chain, "nothing") == []


def test_events_from_height_and_limit(chain: Chain) -> None:
    assert events(chain, "kv.put", from_height=2) == [(3, 0, "4"), (3, 0, "5"), (256, 0, "7")]
    assert events(chain, "kv.put", from_height=3, limit=1) == [(3, 0, "4")]
    assert events(chain, "kv.put", from_height=257) == []
    assert events(chain, "kv.put", limit=2) == [(1, 0, "1"), (1, 1, "2")]


def test_events_limit_zero_yields_nothing(chain: Chain) -> None:
    assert events(chain, "kv.put", limit=0) == []


def test_validator_sets_by_hash_and_the_heights_that_change_them() -> None:
    from xinlian.storage import MemoryStore, WriteBatch
    from xinlian.types import Validator, ValidatorSet

    ledger = Ledger(MemoryStore(), sha256)
    first = ValidatorSet([Validator(b"\x01" * 32, 1, "a")])
    second = ValidatorSet([Validator(b"\x01" * 32, 1, "a"), Validator(b"\x02" * 32, 2, "b")])
    batch = WriteBatch()
    for vs in (first, second):
        ledger.stage_validator_set(sha256(encode(vs)), vs, batch)
    for height in (300, 7, 1 << 40):
        ledger.stage_validator_change(height, batch)
    assert ledger.validator_changes() == []  # staged only
    ledger._store.write(batch)
    assert ledger.validator_set(sha256(encode(second))) == second
    assert ledger.validator_changes() == [7, 300, 1 << 40]  # in height order
    with pytest.raises(NotFound, match="no validator set"):
        ledger.validator_set(b"\x09" * 32)
