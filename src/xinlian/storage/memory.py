"""An in-memory ``KVStore`` for tests and simulations."""

from __future__ import annotations

import bisect
from collections.abc import Iterator

from xinlian.storage.base import StorageError, WriteBatch


class MemoryStore:
    """A dict plus a key list sorted lazily on the first iteration after a write.

    Writes are O(1) per key; an iteration after writes pays one sort. Single writer.
    """

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []
        self._sorted = True
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
            if not isinstance(key, bytes) or not (value is None or isinstance(value, bytes)):
                raise StorageError("batch holds a non-bytes key or value")
        for key, value in batch.pending.items():
            if value is None:
                if self._data.pop(key, None) is not None:
                    self._sorted = False
            else:
                if key not in self._data:
                    self._sorted = False
                self._data[key] = value

    def iterate(
        self, start: bytes, end: bytes | None = None, *, reverse: bool = False
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield items with ``start <= key < end`` over a snapshot of the keys."""
        if self._closed:
            raise StorageError("store is closed")
        if not self._sorted:
            self._keys = sorted(self._data)
            self._sorted = True
        lo = bisect.bisect_left(self._keys, start)
        hi = len(self._keys) if end is None else bisect.bisect_left(self._keys, end)
        keys = self._keys[lo:hi]
        if reverse:
            keys.reverse()
        return self._items(keys)

    def _items(self, keys: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
        for key in keys:
            if self._closed:
                raise StorageError("store is closed")
            value = self._data.get(key)
            if value is not None:
                yield key, value

    def close(self) -> None:
        """Mark the store closed."""
        self._closed = True
