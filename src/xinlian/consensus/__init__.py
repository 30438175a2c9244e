"""Agreement on blocks, as pure state machines: ``step(state, event) -> (state, effects)``.

Two machines live here behind the same event/effect interface (see
docs/adr/0002-consensus-interface.md and docs/consensus.md):

* the development producer (:class:`DevProducer`): one validator that proposes and commits
  a block every interval;
* Tendermint BFT (:class:`Tendermint`): propose, prevote and precommit rounds with
  locking among a weighted validator set; its events and effects are in
  :mod:`xinlian.consensus.events`.

Nothing here reads clocks or touches I/O: the node feeds events with the time and carries
out the effects.
"""

from xinlian.consensus.config import Hasher, Signer, TendermintConfig, Timeouts, Verifier
from xinlian.consensus.dev import (
    BlockCommitted,
    DevProducer,
    Effect,
    Event,
    ProduceBlock,
    ScheduleTick,
    Tick,
)
from xinlian.consensus.errors import ConsensusError
from xinlian.consensus.events import (
    BlockValidated,
    BroadcastProposal,
    BroadcastVote,
    BuildProposal,
    Decide,
    ProposalBuilt,
    ProposalReceived,
    Rejected,
    ReportEvidence,
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
    "BlockCommitted",
    "BlockValidated",
    "BroadcastProposal",
    "BroadcastVote",
    "BuildProposal",
    "ConsensusError",
    "Decide",
    "DevProducer",
    "Effect",
    "Event",
    "Hasher",
    "ProduceBlock",
    "Proposal",
    "ProposalBuilt",
    "ProposalEquivocation",
    "ProposalReceived",
    "ProposerSchedule",
    "Rejected",
    "ReportEvidence",
    "ScheduleTick",
    "ScheduleTimeout",
    "SignStep",
    "SignedProposal",
    "SignedVote",
    "Signer",
    "StartHeight",
    "Step",
    "Tendermint",
    "TendermintConfig",
    "Tick",
    "TimeoutFired",
    "TimeoutKind",
    "Timeouts",
    "ValidateBlock",
    "Verifier",
    "VoteEquivocation",
    "VoteReceived",
    "VoteSet",
]
