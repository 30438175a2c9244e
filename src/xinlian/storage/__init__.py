"""Key-value storage: the ``KVStore`` protocol, an in-memory and an on-disk backend.

Keys and values are bytes. Writes go through :class:`WriteBatch` and are applied
atomically: after a crash either every operation of a batch is visible or none is.
"""

from xinlian.storage.base import (
    KVStore,
    StorageCorruptionError,
    StorageError,
    StorageLockedError,
    WriteBatch,
    open_store,
)
from xinlian.storage.memory import MemoryStore

__all__ = [
    "KVStore",
    "MemoryStore",
    "StorageCorruptionError",
    "StorageError",
    "StorageLockedError",
    "WriteBatch",
    "open_store",
]
