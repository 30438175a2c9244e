"""Block sources backed by a ledger (another node's store, or this node's for serving)."""

from __future__ import annotations

from xinlian.ledger import Ledger, NotFound
from xinlian.types import Block, Commit


class LedgerSource:
    """Serves certified blocks out of a ledger; the serving side of catch-up."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def certified_block(self, height: int) -> tuple[Block, Commit] | None:
        """The block at ``height`` with its commit certificate, or None if not committed."""
        try:
            header = self._ledger.header(height)
            commit = self._ledger.commit(height)
        except NotFound:
            return None
        return Block(header, self._ledger.block_txs(height)), commit
