"""The storage protocol shared by all backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol


class StorageError(Exception):
    """Base of storage errors: cannot open, corrupt data, closed store, a failed write."""


class StorageCorruptionError(StorageError):
    """The stored data is damaged or incomplete (a write-ahead log, table, manifest or
    ``CURRENT`` file): nothing was recovered silently; the operator decides (restore from
    a backup, re-sync from peers, or keep the data for investigation)."""


class StorageLockedError(StorageError):
    """Another process (or another open store in this process) holds the database."""


class WriteBatch:
    """An ordered list of puts and deletes applied atomically by ``KVStore.write``.

    Later operations on the same key win. ``pending`` gives read-your-writes views to
    code that stages a block before committing it.
    """

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending: dict[bytes, bytes | None] = {}

    def put(self, key: bytes, value: bytes) -> None:
        """Stage ``key = value``."""
        self.pending[key] = value

    def delete(self, key: bytes) -> None:
        """Stage removal of ``key``."""
        self.pending[key] = None

    def __len__(self) -> int:
        return len(self.pending)


class KVStore(Protocol):
    """An ordered byte-key store with atomic batches."""

    def get(self, key: bytes) -> bytes | None:
        """Return the value of ``key`` or None."""
        ...

    def write(self, batch: WriteBatch, *, sync: bool = True) -> None:
        """Apply every operation of ``batch`` atomically; with ``sync`` it is durable on return."""
        ...

    def iterate(
        self, start: bytes, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(key, value)`` for ``start <= key < end`` in key order (or reversed)."""
        ...

    def close(self) -> None:
        """Release the store; further use raises ``StorageError``."""
        ...


def open_store(path: str | Path | None) -> KVStore:
    """Open the default on-disk store at ``path``, or an in-memory store when ``path`` is None."""
    if path is None:
        from xinlian.storage.memory import MemoryStore

        return MemoryStore()
    from xinlian.storage.rocks import RocksStore

    return RocksStore(Path(path))
