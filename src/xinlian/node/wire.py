"""What nodes say to each other: channels and their canonical message records.

Every frame on the transport is ``Envelope(channel, payload)`` (see ``xinlian.p2p``);
the payload is the canonical encoding of one record below, decoded strictly. A payload
that does not decode, or breaks a bound here, is dropped and counted against the peer.

=========  =====================  ==============================================
channel    payload                meaning
=========  =====================  ==============================================
1          ``SignedProposal``     a proposal (with its block) for a height/round
2          ``SignedVote``         a prevote or precommit
3          ``TxBatch``            signed transactions to add to the mempool
4          ``NodeStatus``         the sender's committed height (sent every tick)
5          ``BlockRequest``       "send me certified blocks from ``start``"
6          ``BlockResponse``      certified blocks (block and commit certificate)
=========  =====================  ==============================================
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

from msgspec import Meta, Struct

from xinlian.types import Block, Commit
from xinlian.types.ints import U64

MAX_TX_BATCH = 10_000
MAX_BLOCKS_PER_RESPONSE = 64


class Channel(IntEnum):
    """Transport channels of the node protocol."""

    PROPOSAL = 1
    VOTE = 2
    TXS = 3
    STATUS = 4
    BLOCK_REQUEST = 5
    BLOCK_RESPONSE = 6


class TxBatch(Struct, array_like=True, frozen=True):
    """Raw signed transactions (each is checked like a client submission)."""

    txs: Annotated[list[bytes], Meta(max_length=MAX_TX_BATCH)]


class NodeStatus(Struct, array_like=True, frozen=True):
    """The sender's latest committed height."""

    height: U64


class BlockRequest(Struct, array_like=True, frozen=True):
    """Ask for up to ``count`` certified blocks from height ``start`` on."""

    start: Annotated[int, Meta(ge=1)]
    count: Annotated[int, Meta(ge=1, le=MAX_BLOCKS_PER_RESPONSE)]


class CertifiedBlock(Struct, array_like=True, frozen=True):
    """A committed block with the certificate that made it final."""

    block: Block
    commit: Commit


class BlockResponse(Struct, array_like=True, frozen=True):
    """Consecutive certified blocks answering a :class:`BlockRequest`."""

    blocks: Annotated[list[CertifiedBlock], Meta(max_length=MAX_BLOCKS_PER_RESPONSE)]
