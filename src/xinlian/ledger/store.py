"""Block store and indexes over a ``KVStore``.

Layout (all keys under ``L/``; heights are 8-byte big-endian, indexes 4-byte)::

    L/meta/height                 -> latest committed height
    L/meta/genesis                -> genesis document (JSON bytes)
    L/h/<height>                  -> BlockHeader
    L/c/<height>                  -> Commit
    L/hash/<block hash>           -> height
    L/x/<height><index>           -> SignedTransaction bytes
    L/r/<height><index>           -> Receipt bytes
    L/t/<tx hash>                 -> height || index
    L/e/<type>\\x00<height><index><n> -> b""   (events by type)
    L/vs/<validator-set hash>     -> ValidatorSet   (every set a header names)
    L/vc/<height>                 -> b""   (blocks whose next validator set differs)

A block and everything it changes are staged into one ``WriteBatch`` that the caller
commits atomically with the state, so a crash leaves either the whole block or none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from xinlian.codec import decode, encode
from xinlian.crypto.merkle import merkle_proof
from xinlian.protocol.blocks import block_id
from xinlian.storage import KVStore, WriteBatch
from xinlian.types import (
    BlockHeader,
    Commit,
    Event,
    MerkleProof,
    Receipt,
    SignedTransaction,
    ValidatorSet,
)

HashFn = Callable[[bytes], bytes]

_HEIGHT = b"L/meta/height"
_GENESIS = b"L/meta/genesis"


class LedgerError(Exception):
    """Base of ledger errors."""


class NotFound(LedgerError):  # noqa: N818 - reads as the condition
    """The requested block, transaction or receipt is not in the ledger."""


@dataclass(frozen=True, slots=True)
class TxRecord:
    """A committed transaction with its position and receipt."""

    tx: SignedTransaction
    raw: bytes
    height: int
    index: int
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """A committed block: header, hash, commit certificate and transaction hashes."""

    header: BlockHeader
    hash: bytes
    commit: Commit
    tx_hashes: list[bytes]


def _h(height: int) -> bytes:
    return height.to_bytes(8, "big")


def _hi(height: int, index: int) -> bytes:
    return height.to_bytes(8, "big") + index.to_bytes(4, "big")


class Ledger:
    """Reads and stages blocks; the caller owns the ``KVStore`` and commits batches."""

    def __init__(self, store: KVStore, hash_fn: HashFn) -> None:
        self._store = store
        self._hash = hash_fn

    # WRITE

    def stage_genesis(self, genesis_json: bytes, batch: WriteBatch) -> None:
        """Record the genesis document and height 0."""
        batch.put(_GENESIS, genesis_json)
        batch.put(_HEIGHT, _h(0))

    def stage_block(
        self,
        header: BlockHeader,
        block_hash: bytes,
        commit: Commit,
        raw_txs: Sequence[bytes],
        tx_hashes: Sequence[bytes],
        receipts: Sequence[Receipt],
        batch: WriteBatch,
    ) -> None:
        """Stage a block, its transactions, receipts, indexes and the new height."""
        height = header.height
        batch.put(b"L/h/" + _h(height), encode(header))
        batch.put(b"L/c/" + _h(height), encode(commit))
        batch.put(b"L/hash/" + block_hash, _h(height))
        for index, (raw, tx_hash, receipt) in enumerate(
            zip(raw_txs, tx_hashes, receipts, strict=True)
        ):
            pos = _hi(height, index)
            batch.put(b"L/x/" + pos, raw)
            batch.put(b"L/r/" + pos, encode(receipt))
            batch.put(b"L/t/" + tx_hash, pos)
            for n, event in enumerate(receipt.events):
                batch.put(b"L/e/" + event.type.encode() + b"\x00" + pos + n.to_bytes(2, "big"), b"")
        batch.put(_HEIGHT, _h(height))

    # READ

    def stage_validator_set(
        self, set_hash: bytes, validators: ValidatorSet, batch: WriteBatch
    ) -> None:
        """Record a validator set under its hash (as named by headers)."""
        batch.put(b"L/vs/" + set_hash, encode(validators))

    def stage_validator_change(self, height: int, batch: WriteBatch) -> None:
        """Index ``height`` as a block that changes the validator set."""
        batch.put(b"L/vc/" + _h(height), b"")

    def validator_changes(self) -> list[int]:
        """Heights of the blocks that changed the validator set, in order."""
        return [
            int.from_bytes(key[5:], "big") for key, _ in self._store.iterate(b"L/vc/", b"L/vc0")
        ]

    def validator_set(self, set_hash: bytes) -> ValidatorSet:
        """The validator set with this hash."""
        raw = self._store.get(b"L/vs/" + set_hash)
        if raw is None:
            raise NotFound(f"no validator set {set_hash.hex()}")
        return decode(raw, ValidatorSet)

    def height(self) -> int:
        """Latest committed height (0 before the first block; -1 if not initialised)."""
        raw = self._store.get(_HEIGHT)
        return -1 if raw is None else int.from_bytes(raw, "big")

    def genesis_json(self) -> bytes | None:
        """The stored genesis document, if the ledger has been initialised."""
        return self._store.get(_GENESIS)

    def header(self, height: int) -> BlockHeader:
        """Header at ``height``."""
        raw = self._store.get(b"L/h/" + _h(height))
        if raw is None:
            raise NotFound(f"no block at height {height}")
        return decode(raw, BlockHeader)

    def commit(self, height: int) -> Commit:
        """Commit certificate of the block at ``height``."""
        raw = self._store.get(b"L/c/" + _h(height))
        if raw is None:
            raise NotFound(f"no commit for height {height}")
        return decode(raw, Commit)

    def height_of(self, block_hash: bytes) -> int:
        """Height of the block with ``block_hash``."""
        raw = self._store.get(b"L/hash/" + block_hash)
        if raw is None:
            raise NotFound(f"no block with hash {block_hash.hex()}")
        return int.from_bytes(raw, "big")

    def block(self, height: int) -> BlockRecord:
        """Header, hash, commit and transaction hashes of the block at ``height``."""
        header = self.header(height)
        hashes = [self._hash(raw) for raw in self._raw_txs(height)]
        return BlockRecord(header, block_id(self._hash, header), self.commit(height), hashes)

    def block_txs(self, height: int) -> list[SignedTransaction]:
        """The transactions of the block at ``height``, in order."""
        return [decode(raw, SignedTransaction) for raw in self._raw_txs(height)]

    def _raw_txs(self, height: int) -> list[bytes]:
        start = b"L/x/" + _hi(height, 0)
        end = b"L/x/" + _h(height + 1)
        return [v for _, v in self._store.iterate(start, end)]

    def _receipts(self, height: int) -> list[bytes]:
        start = b"L/r/" + _hi(height, 0)
        end = b"L/r/" + _h(height + 1)
        return [v for _, v in self._store.iterate(start, end)]

    def _position(self, tx_hash: bytes) -> tuple[int, int]:
        raw = self._store.get(b"L/t/" + tx_hash)
        if raw is None:
            raise NotFound(f"no committed transaction {tx_hash.hex()}")
        return int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:], "big")

    def has_tx(self, tx_hash: bytes) -> bool:
        """Whether a transaction with this hash is committed."""
        return self._store.get(b"L/t/" + tx_hash) is not None

    def tx(self, tx_hash: bytes) -> TxRecord:
        """A committed transaction with its receipt."""
        height, index = self._position(tx_hash)
        pos = _hi(height, index)
        raw = self._store.get(b"L/x/" + pos)
        raw_receipt = self._store.get(b"L/r/" + pos)
        if raw is None or raw_receipt is None:
            raise LedgerError(f"index names {tx_hash.hex()} at {height}/{index} but it is missing")
        return TxRecord(
            decode(raw, SignedTransaction), raw, height, index, decode(raw_receipt, Receipt)
        )

    def tx_proof(self, tx_hash: bytes) -> tuple[int, MerkleProof]:
        """Height and Merkle path of a transaction hash to its header's ``tx_root``."""
        height, index = self._position(tx_hash)
        leaves = [self._hash(raw) for raw in self._raw_txs(height)]
        return height, merkle_proof(self._hash, leaves, index)

    def receipt_proof(self, tx_hash: bytes) -> tuple[int, MerkleProof]:
        """Height and Merkle path of a receipt (its canonical bytes) to ``receipts_root``."""
        height, index = self._position(tx_hash)
        return height, merkle_proof(self._hash, self._receipts(height), index)

    def receipts(self, height: int) -> list[Receipt]:
        """Receipts of the block at ``height``."""
        return [decode(raw, Receipt) for raw in self._receipts(height)]

    def events_page(
        self, event_type: str, start: tuple[int, int, int], limit: int
    ) -> Iterator[tuple[tuple[int, int, int], bytes, Event]]:
        """Up to ``limit`` events of ``event_type`` at or after the position ``start`` =
        (height, transaction index in the block, event index in its receipt), in order:
        ``(position, tx_hash, event)``. A client pages inside a busy height by asking again
        from just after the last position it got."""
        prefix = b"L/e/" + event_type.encode() + b"\x00"
        height, index, n = start
        first = prefix + _h(height) + index.to_bytes(4, "big") + n.to_bytes(2, "big")
        count = 0
        for key, _ in self._store.iterate(first, prefix + b"\xff" * 15):
            if count >= limit:
                return
            pos = key[len(prefix) :]
            raw_receipt = self._store.get(b"L/r/" + pos[:12])
            if raw_receipt is None:
                continue
            receipt = decode(raw_receipt, Receipt)
            at = (
                int.from_bytes(pos[:8], "big"),
                int.from_bytes(pos[8:12], "big"),
                int.from_bytes(pos[12:14], "big"),
            )
            yield at, receipt.tx_hash, receipt.events[at[2]]
            count += 1

    def events(
        self, event_type: str, from_height: int = 0, limit: int = 100
    ) -> Iterator[tuple[int, bytes, Event]]:
        """Events of ``event_type`` from ``from_height`` on: ``(height, tx_hash, event)``."""
        prefix = b"L/e/" + event_type.encode() + b"\x00"
        count = 0
        for key, _ in self._store.iterate(prefix + _h(from_height), prefix + b"\xff" * 9):
            if count >= limit:
                return
            pos = key[len(prefix) :]
            height = int.from_bytes(pos[:8], "big")
            n = int.from_bytes(pos[12:14], "big")
            raw_receipt = self._store.get(b"L/r/" + pos[:12])
            if raw_receipt is None:
                continue
            receipt = decode(raw_receipt, Receipt)
            yield height, receipt.tx_hash, receipt.events[n]
            count += 1
