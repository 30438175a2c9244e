"""Catching up: a lagging or new node fetches certified blocks and applies them.

Exceptions::

    SyncError       the source lacks a block, or a block was refused
"""

from xinlian.sync.catchup import BlockSource, SyncError, SyncTarget, catch_up
from xinlian.sync.sources import LedgerSource

__all__ = ["BlockSource", "LedgerSource", "SyncError", "SyncTarget", "catch_up"]
