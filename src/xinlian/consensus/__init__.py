"""Agreement on blocks, as pure state machines: ``step(state, event) -> (state, effects)``.

Tendermint BFT (:class:`Tendermint`): propose, prevote and precommit rounds with locking
among a weighted validator set; its events and effects are in
:mod:`xinlian.consensus.events` (see docs/adr/0002-consensus-interface.md and
docs/consensus.md). A single-validator network runs the same machine with a set of one.

Nothing here reads clocks or touches I/O: the node feeds events with the time and carries
out the effects.
"""

from xinlian.consensus.config import Hasher, Signer, TendermintConfig, Timeouts, Verifier
from xinlian.consensus.errors import ConsensusError
from xinlian.consensus.events import (
    BlockValidated,
    BroadcastProposal,
    BroadcastVote,
    BuildProposal,
    Decide,
    Effect,
    Event,
    ProposalBuilt,
    ProposalReceived,
    Rejected,
    ReportEvidence,
    Resume,
    ScheduleTimeout,
    StartHeight,
    TimeoutFired,
    TimeoutKind,
    ValidateBlock,
    VoteReceived,
)
from xinlian.consensus.messages import (
    Proposal,
    ProposalEquivocation,
    SignedProposal,
    SignedVote,
    SignStep,
    VoteEquivocation,
)
from xinlian.consensus.proposer import ProposerSchedule
from xinlian.consensus.tendermint import Step, Tendermint
from xinlian.consensus.votes import VoteSet

__all__ = [
    "BlockValidated",
    "BroadcastProposal",
    "BroadcastVote",
    "BuildProposal",
    "ConsensusError",
    "Decide",
    "Effect",
    "Event",
    "Hasher",
    "Proposal",
    "ProposalBuilt",
    "ProposalEquivocation",
    "ProposalReceived",
    "ProposerSchedule",
    "Rejected",
    "ReportEvidence",
    "Resume",
    "ScheduleTimeout",
    "SignStep",
    "SignedProposal",
    "SignedVote",
    "Signer",
    "StartHeight",
    "Step",
    "Tendermint",
    "TendermintConfig",
    "TimeoutFired",
    "TimeoutKind",
    "Timeouts",
    "ValidateBlock",
    "Verifier",
    "VoteEquivocation",
    "VoteReceived",
    "VoteSet",
]
