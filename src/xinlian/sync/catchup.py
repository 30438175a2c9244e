"""Catching up: fetch certified blocks, verify, execute and commit them in order.

The source of blocks (a peer over the network, another node's store in tests) and the
chain being advanced are both interfaces here, so the same loop serves a node that was
down, a newly added node and the tests. Nothing is trusted from the source: every block's
commit certificate is checked against the validator set, and the block is re-executed
and must reproduce the header's roots before it is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from xinlian.types import Block, Commit

P = TypeVar("P")


class SyncError(Exception):
    """Catching up stopped: the source has no such block, or a block was refused."""


class BlockSource(Protocol):
    """Where certified blocks come from."""

    def certified_block(self, height: int) -> tuple[Block, Commit] | None:
        """The block at ``height`` with its commit certificate, or None if unknown."""
        ...


class SyncTarget(Protocol[P]):
    """The chain being advanced (``xinlian.node.chain.Chain`` implements it)."""

    @property
    def height(self) -> int:
        """The last committed height."""
        ...

    def validate_block(self, block: Block) -> P:
        """Check and execute ``block``; raise if it breaks a rule."""
        ...

    def commit_block(self, prepared: P, commit: Commit) -> object:
        """Commit an executed block with its certificate; raise if not final."""
        ...


def catch_up(
    target: SyncTarget[P],
    source: BlockSource,
    to_height: int,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Apply blocks ``target.height + 1 .. to_height`` from ``source``; returns how many.

    Raises:
        SyncError: the source lacks a block, or the target refused one (the message names
            the height and the reason); blocks before it stay committed.
    """
    applied = 0
    while target.height < to_height:
        height = target.height + 1
        found = source.certified_block(height)
        if found is None:
            raise SyncError(f"the source has no block at height {height}")
        block, commit = found
        if block.header.height != height or commit.height != height:
            raise SyncError(f"the source answered height {block.header.height} for {height}")
        try:
            prepared = target.validate_block(block)
            target.commit_block(prepared, commit)
        except Exception as exc:  # InvalidBlock, ChainError: report which block and why
            raise SyncError(f"block {height} refused: {exc}") from exc
        applied += 1
        if progress is not None:
            progress(height)
    return applied
