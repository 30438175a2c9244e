"""Inputs to the BFT state machine (events) and its requests to the node (effects).

Events:

* :class:`StartHeight` — begin a height: at startup, and after the node committed the
  previous height's decision (this is also the "commit completed" signal). At startup it
  may carry a :class:`Resume`: what this validator had signed and locked at that height
  before it stopped.
* :class:`ProposalReceived`, :class:`VoteReceived` — signed messages from the network.
* :class:`TimeoutFired` — a timeout the machine asked for (:class:`ScheduleTimeout`).
* :class:`ProposalBuilt` — the node built the block this validator proposes.
* :class:`BlockValidated` — the node executed a proposed block: valid or not.

Effects:

* :class:`BroadcastProposal`, :class:`BroadcastVote` — signed messages to send (the node
  logs them before they leave; see ADR 0002).
* :class:`ScheduleTimeout` — deliver a :class:`TimeoutFired` after ``duration_ms``.
* :class:`BuildProposal` — this validator proposes: build a block, answer ``ProposalBuilt``.
* :class:`ValidateBlock` — execute a proposed block, answer ``BlockValidated``.
* :class:`Decide` — the block is final: commit it with its certificate, then send
  ``StartHeight(height + 1)``.
* :class:`ReportEvidence` — a validator equivocated (signed two conflicting messages).
* :class:`Rejected` — an input was dropped (bad signature, unknown validator, wrong chain,
  malformed); the node may count it against the peer that relayed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from xinlian.consensus.messages import Evidence, SignedProposal, SignedVote
from xinlian.types.block import Commit


class TimeoutKind(Enum):
    """The three timeouts of a round (the paper's timeoutPropose/Prevote/Precommit)."""

    PROPOSE = "propose"
    PREVOTE = "prevote"
    PRECOMMIT = "precommit"


# Events


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a restarted validator takes up a height it had already voted in.

    Its signer refuses to sign again at any (round, step) it already signed, so the height
    resumes at the round after the last one it signed in; and its lock survives the restart
    (Line 36-43's ``lockedValue``/``lockedRound``), or a validator that precommitted a
    block could help decide a different one after restarting. The locked block's bytes
    come with it so that, as proposer, it re-proposes that block (with no POL round, since
    the prevotes that formed the lock were lost: a proposal's POL round only helps others
    unlock, and a locked validator prevotes its locked value whatever the POL round).

    Attributes:
        round: the first round to run (above every round this validator signed in).
        locked_value, locked_round: the lock held when it stopped (None and -1: none).
        locked_block: the bytes of the locked block (None when unknown or unlocked).
    """

    round: int
    locked_value: bytes | None = None
    locked_round: int = -1
    locked_block: bytes | None = None


@dataclass(frozen=True, slots=True)
class StartHeight:
    """Start consensus for ``height`` (after the previous height is committed), resuming
    what this validator had done at that height before a restart when ``resume`` is set."""

    height: int
    resume: Resume | None = None


@dataclass(frozen=True, slots=True)
class ProposalReceived:
    """A signed proposal arrived."""

    proposal: SignedProposal


@dataclass(frozen=True, slots=True)
class VoteReceived:
    """A signed prevote or precommit arrived."""

    vote: SignedVote


@dataclass(frozen=True, slots=True)
class TimeoutFired:
    """A scheduled timeout elapsed."""

    kind: TimeoutKind
    height: int
    round: int


@dataclass(frozen=True, slots=True)
class ProposalBuilt:
    """The node built the block to propose at ``(height, round)``."""

    height: int
    round: int
    block: bytes


@dataclass(frozen=True, slots=True)
class BlockValidated:
    """The node executed the block with ``block_hash`` at ``height``: ``valid`` or not."""

    height: int
    block_hash: bytes
    valid: bool


Event = (
    StartHeight | ProposalReceived | VoteReceived | TimeoutFired | ProposalBuilt | BlockValidated
)


# Effects


@dataclass(frozen=True, slots=True)
class BroadcastProposal:
    """Send this validator's signed proposal to every peer."""

    proposal: SignedProposal


@dataclass(frozen=True, slots=True)
class BroadcastVote:
    """Send this validator's signed vote to every peer."""

    vote: SignedVote


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    """Deliver ``TimeoutFired(kind, height, round)`` after ``duration_ms``."""

    kind: TimeoutKind
    height: int
    round: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class BuildProposal:
    """Build the block this validator proposes at ``(height, round)``."""

    height: int
    round: int


@dataclass(frozen=True, slots=True)
class ValidateBlock:
    """Execute ``block`` (hash ``block_hash``) on the state after ``height - 1``."""

    height: int
    block_hash: bytes
    block: bytes


@dataclass(frozen=True, slots=True)
class Decide:
    """``block`` is final at ``height``; ``commit`` holds over two thirds of precommits.

    ``proposal`` is the signed proposal the block came in (useful to help lagging peers).
    """

    height: int
    round: int
    block_hash: bytes
    block: bytes
    commit: Commit
    proposal: SignedProposal


@dataclass(frozen=True, slots=True)
class ReportEvidence:
    """A validator signed two conflicting messages."""

    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input was dropped; ``reason`` says why."""

    reason: str


Effect = (
    BroadcastProposal
    | BroadcastVote
    | ScheduleTimeout
    | BuildProposal
    | ValidateBlock
    | Decide
    | ReportEvidence
    | Rejected
)
