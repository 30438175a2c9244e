"""The BFT protocol's wire records: signed proposals, signed votes and evidence.

A vote's signature covers the canonical bytes of :class:`xinlian.types.Vote`, the same
bytes a commit certificate's :class:`xinlian.types.CommitSig` covers, so the precommits
that decided a block *are* its certificate. A proposal's signature covers the canonical
bytes of :class:`Proposal` (a six-field array tagged ``PROPOSAL_TYPE``, so it can never
be mistaken for a five-field vote). The block travels beside the signed body as opaque
bytes; its hash is in the body.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

from msgspec import Meta, Struct

from xinlian.codec import encode
from xinlian.types.block import Vote, VoteType
from xinlian.types.ints import U64

PROPOSAL_TYPE = 32
"""The ``type`` tag of a :class:`Proposal` (votes use 1 and 2, see ``VoteType``)."""

NIL = b""
"""The block hash of a vote for nil."""

PolRound = Annotated[int, Meta(ge=-1)]


class SignStep(IntEnum):
    """What is signed within a round, in protocol order: the one enum for it, used by
    the consensus machine's signing callback and by the node's double-sign guard
    (``node.signer``), whose log orders records by (height, round, step).

    The machine's round step (``consensus.tendermint.Step``: PROPOSE, PREVOTE,
    PRECOMMIT) stays a separate enum on purpose: it is where the machine *is* in a round
    (the paper's ``step_p``), which can differ from what it last signed (a validator that
    is not the proposer is in PROPOSE without signing anything; it may sign a precommit
    for nil after a timeout without a prevote step having produced a signature), and its
    first member names a phase, not a message."""

    PROPOSAL = 0
    PREVOTE = 1
    PRECOMMIT = 2


def sign_step(vote_type: int) -> SignStep:
    """The signing step of a vote type."""
    return SignStep.PREVOTE if vote_type == VoteType.PREVOTE else SignStep.PRECOMMIT


class Proposal(Struct, array_like=True, frozen=True):
    """The body a proposer signs: ⟨PROPOSAL, h, r, id(v), vr⟩ of the paper.

    ``pol_round`` is the paper's ``vr``: the round of the proof-of-lock (2f+1 prevotes)
    for a re-proposed value, or -1 for a fresh value.
    """

    chain_id: str
    type: U64
    height: U64
    round: U64
    block_hash: bytes
    pol_round: PolRound


class SignedProposal(Struct, array_like=True, frozen=True):
    """A proposal, its proposer's index in the validator set, its signature and the block."""

    proposal: Proposal
    proposer_index: U64
    signature: bytes
    block: bytes

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers."""
        return encode(self.proposal)


class SignedVote(Struct, array_like=True, frozen=True):
    """A vote, its validator's index in the set, and the signature over the vote's bytes."""

    vote: Vote
    validator_index: U64
    signature: bytes

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers."""
        return encode(self.vote)


class VoteEquivocation(Struct, array_like=True, frozen=True):
    """Evidence: one validator signed two different votes of one height, round and type."""

    first: SignedVote
    second: SignedVote


class ProposalEquivocation(Struct, array_like=True, frozen=True):
    """Evidence: one proposer signed two different proposals for one height and round."""

    first: SignedProposal
    second: SignedProposal


Evidence = VoteEquivocation | ProposalEquivocation
