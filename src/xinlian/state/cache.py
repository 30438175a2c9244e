"""A bounded cache of decoded internal nodes, with the top levels pinned."""

from __future__ import annotations

from collections import OrderedDict
from contextlib import suppress
from typing import Generic, TypeVar

V = TypeVar("V")


class NodeCache(Generic[V]):
    """An LRU map from store keys to decoded nodes.

    Nodes at depth ``< pin_depth`` (the top of the tree, read by every update and proof)
    live in a separate unbounded map and never get evicted by traffic lower down; they
    leave only through :meth:`discard` (when replaced or pruned). Safe to share between a
    writer and reader threads under the GIL: a lost race only costs a store read.

    The attributes ``pinned`` and ``lru`` (most recent last) and ``pin_depth`` and
    ``capacity`` are public so that the state tree's update loop can use them inline.
    """

    __slots__ = ("capacity", "lru", "pin_depth", "pinned")

    def __init__(self, capacity: int, pin_depth: int = 3) -> None:
        self.capacity = max(0, capacity)
        self.pin_depth = pin_depth
        self.pinned: dict[bytes, V] = {}
        self.lru: OrderedDict[bytes, V] = OrderedDict()

    def get(self, key: bytes, depth: int) -> V | None:
        """The cached node at ``key`` (found at ``depth``), or None."""
        if depth < self.pin_depth:
            return self.pinned.get(key)
        node = self.lru.get(key)
        if node is not None:
            with suppress(KeyError):  # evicted by another thread meanwhile
                self.lru.move_to_end(key)
        return node

    def put(self, key: bytes, depth: int, node: V) -> None:
        """Remember ``node`` under ``key``, evicting the least recently used if full."""
        if depth < self.pin_depth:
            self.pinned[key] = node
            return
        if self.capacity == 0:
            return
        lru = self.lru
        lru[key] = node
        if len(lru) > self.capacity:
            with suppress(KeyError):
                lru.popitem(last=False)

    def discard(self, key: bytes, depth: int) -> None:
        """Forget ``key`` (a replaced or pruned node)."""
        if depth < self.pin_depth:
            self.pinned.pop(key, None)
        else:
            self.lru.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self.pinned.clear()
        self.lru.clear()

    def __len__(self) -> int:
        return len(self.pinned) + len(self.lru)
