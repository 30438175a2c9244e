"""An in-memory ``KVStore`` for tests and simulations."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from xinlian.storage.base import StorageError, WriteBatch


class MemoryStore:
    """A dict plus a sorted key list; batches are applied under no lock (single writer)."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []
        self._closed = False

    def get(self, key: bytes) -> bytes | None:
        """Return the value of ``key`` or None."""
        if self._closed:
            raise StorageError("store is closed")
        return self._data.get(key)

    def write(self, batch: WriteBatch, *, sync: bool = True) -> None:
        """Apply the batch (``sync`` has no meaning in memory)."""
        if self._closed:
            raise StorageError("store is closed")
        for key, value in batch.pending.items():
            if value is None:
                if key in self._data:
                    del self._data[key]
                    i = bisect.bisect_left(self._keys, key)
                    del self._keys[i]
            else:
                if key not in self._data:
                    bisect.insort(self._keys, key)
                self._data[key] = value

    def iterate(
        self, start: bytes, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield items with ``start <= key < end`` over a snapshot of the keys."""
        if self._closed:
            raise StorageError("store is closed")
        lo = bisect.bisect_left(self._keys, start)
        hi = len(self._keys) if end is None else bisect.bisect_left(self._keys, end)
        keys = self._keys[lo:hi]
        if reverse:
            keys.reverse()
        for key in keys:
            value = self._data.get(key)
            if value is not None:
                yield key, value

    def close(self) -> None:
        """Mark the store closed."""
        self._closed = True
