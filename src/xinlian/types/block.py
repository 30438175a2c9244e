"""Blocks, headers, votes and commit certificates."""

from enum import IntEnum

from msgspec import Struct

from xinlian.types.ints import U64
from xinlian.types.tx import SignedTransaction


class BlockHeader(Struct, array_like=True, frozen=True):
    """The part of a block that is hashed and signed.

    ``state_root`` and ``receipts_root`` are the roots *after* executing this block's
    transactions, so a header alone commits to the block's effects.
    """

    chain_id: str
    height: U64
    time_ms: U64
    prev_hash: bytes
    tx_root: bytes
    state_root: bytes
    receipts_root: bytes
    validators_hash: bytes
    next_validators_hash: bytes
    proposer: bytes


class Block(Struct, array_like=True, frozen=True):
    """A header and the transactions it commits to (in order)."""

    header: BlockHeader
    txs: list[SignedTransaction]


class VoteType(IntEnum):
    """Kinds of consensus vote."""

    PREVOTE = 1
    PRECOMMIT = 2


class Vote(Struct, array_like=True, frozen=True):
    """The body a validator signs when voting; an empty ``block_hash`` is a vote for nil."""

    chain_id: str
    type: U64
    height: U64
    round: U64
    block_hash: bytes


class CommitSig(Struct, array_like=True, frozen=True):
    """One validator's precommit signature, by its index in the validator set."""

    validator_index: U64
    signature: bytes


class Commit(Struct, array_like=True, frozen=True):
    """A commit certificate: precommits of more than 2/3 of voting power for ``block_hash``."""

    height: U64
    round: U64
    block_hash: bytes
    signatures: list[CommitSig]
