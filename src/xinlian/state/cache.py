"""A bounded cache of internal nodes, with the top levels pinned."""

from __future__ import annotations


class NodeCache:
    """A map from node store keys to cached node bytes, bounded to about ``capacity``.

    Nodes at depth ``< pin_depth`` (the top of the tree, read by every update and proof)
    live in a separate map that traffic lower down never evicts; they leave only through
    :meth:`discard` (when replaced or pruned).

    The rest is an approximate LRU made of two generations of plain dicts: new and used
    entries go to the young generation; when it holds ``capacity / 2`` entries it becomes
    the old one and the previous old generation is dropped, and a hit in the old
    generation moves the entry back to the young one. Every operation is O(1), and since
    keys and values are bytes, the dicts are invisible to the garbage collector (an
    ``OrderedDict`` of a few hundred thousand nodes made collections take tens of
    milliseconds). Safe to share between one writer and reader threads under the GIL: a
    lost race only costs a store read.
    """

    __slots__ = ("_half", "_old", "_pin_depth", "_pinned", "_young")

    def __init__(self, capacity: int, pin_depth: int = 3) -> None:
        self._half = max(0, capacity) // 2
        self._pin_depth = pin_depth
        self._pinned: dict[bytes, bytes] = {}
        self._young: dict[bytes, bytes] = {}
        self._old: dict[bytes, bytes] = {}

    def get(self, key: bytes, depth: int) -> bytes | None:
        """The cached node at ``key`` (found at ``depth``), or None."""
        if depth < self._pin_depth:
            return self._pinned.get(key)
        value = self._young.get(key)
        if value is None:
            value = self._old.pop(key, None)
            if value is not None:
                self._put_young(key, value)
        return value

    def take(self, key: bytes, depth: int) -> bytes | None:
        """Remove and return the node at ``key``; the caller puts it back if still used."""
        if depth < self._pin_depth:
            return self._pinned.get(key)
        value = self._young.pop(key, None)
        if value is None:
            value = self._old.pop(key, None)
        return value

    def put(self, key: bytes, depth: int, value: bytes) -> None:
        """Remember ``value`` under ``key`` as most recently used."""
        if depth < self._pin_depth:
            self._pinned[key] = value
        else:
            self._put_young(key, value)

    def _put_young(self, key: bytes, value: bytes) -> None:
        young = self._young
        young[key] = value
        if len(young) > self._half:
            self._old = young
            self._young = {}

    def discard(self, key: bytes, depth: int) -> None:
        """Forget ``key`` (a replaced or pruned node)."""
        if depth < self._pin_depth:
            self._pinned.pop(key, None)
        else:
            self._young.pop(key, None)
            self._old.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._pinned.clear()
        self._young = {}
        self._old = {}

    @property
    def pinned_count(self) -> int:
        """Number of pinned (top-level) nodes."""
        return len(self._pinned)

    def __len__(self) -> int:
        return len(self._pinned) + len(self._young) + len(self._old)
