"""Tendermint BFT consensus as a pure state machine.

This follows Algorithm 1 of Buchman, Kwon and Milosevic, "The latest gossip on BFT
consensus" (2018). Comments ``# Line N`` refer to that algorithm's line numbers. The
state is a frozen :class:`Tendermint` record; ``step(event)`` returns the next state and
the effects for the node to carry out. Nothing here reads a clock, does I/O or draws
randomness: time arrives as ``TimeoutFired`` events, blocks are opaque bytes executed by
the node (``ValidateBlock`` / ``BlockValidated``), and signing and verifying are callables
from the :class:`TendermintConfig`.

Differences from the paper's pseudo-code, none of which weakens its safety argument:

* ``valid(v)`` is asynchronous: a rule that needs it waits for ``BlockValidated``.
* After deciding, the machine waits for the node to commit and send
  ``StartHeight(h + 1)`` instead of moving on by itself (Line 52-54 split in two).
* The proposer also schedules ``timeoutPropose`` (Line 20), so a node that never answers
  ``BuildProposal`` cannot stall its round.
* ``getValue()`` and ``valid(v)`` take time here, where the paper has them instant. A
  ``timeoutPropose`` that fires while this node is still building its proposal, or still
  validating the round's proposal, is held until that finishes: then Line 22/28 decide the
  prevote, or, if neither applies, the held timeout prevotes nil (Line 57). Only the
  moment of the prevote moves, which the paper leaves to the network's timing anyway. A
  block built after this node already left the propose step is dropped (it would be a
  proposal signed after this node's own prevote in that round).
* The round skip (Line 55) counts the power of distinct validators with votes in the
  higher round (proposals are not counted), as CometBFT does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum

from xinlian.consensus.config import TendermintConfig
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
    NIL,
    PROPOSAL_TYPE,
    Evidence,
    Proposal,
    ProposalEquivocation,
    SignedProposal,
    SignedVote,
    SignStep,
    VoteEquivocation,
    sign_step,
)
from xinlian.consensus.votes import AddOutcome, VoteSet, exceeds_one_third
from xinlian.types.block import Commit, CommitSig, Vote, VoteType

PREVOTE = int(VoteType.PREVOTE)
PRECOMMIT = int(VoteType.PRECOMMIT)

Message = SignedProposal | SignedVote


class Step(IntEnum):
    """The step within a round (the paper's ``step_p``): where the machine is, not what it
    signs. What is signed is ``consensus.messages.SignStep`` (PROPOSAL, PREVOTE,
    PRECOMMIT), a different thing: a validator is in PROPOSE whether or not it proposes,
    and signs no message for being there; the two only share their order."""

    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2


@dataclass(frozen=True, slots=True)
class Tendermint:
    """One validator's consensus state (immutable; ``step`` returns a new one).

    Attributes:
        config: validator set, crypto callables, timeouts and limits.
        height: the height being decided (``h_p``); 0 before the first ``StartHeight``.
        round: the current round (``round_p``).
        round_step: the current step within the round (``step_p``).
        locked_value, locked_round: ``lockedValue_p`` (a block hash) and ``lockedRound_p``.
        valid_value, valid_round, valid_block: ``validValue_p`` (hash), ``validRound_p``
            and the block's bytes (re-proposed by Line 15-16).
        proposals: the first valid proposal of each round of this height.
        alternatives: other proposals of a round (the proposer equivocated) kept because
            more than a third of the power voted for their block, by (round, block hash).
        votes: vote sets of this height by ``(round, vote type)``.
        validity: ``valid(v)`` results by block hash; ``validating`` are requested.
        building: a ``BuildProposal`` for the current round is outstanding.
        prevote_timeout_set, precommit_timeout_set, pol_seen: the "for the first time"
            flags of Lines 34, 47 and 36 for the current round.
        decision: the decided block hash of this height (``decision_p[h_p]``).
        future: bounded buffer of verified messages for the next heights.
        evidence: the latest equivocations seen (bounded).
    """

    config: TendermintConfig
    height: int = 0
    round: int = 0
    round_step: Step = Step.PROPOSE
    locked_value: bytes | None = None
    locked_round: int = -1
    valid_value: bytes | None = None
    valid_round: int = -1
    valid_block: bytes | None = None
    proposals: Mapping[int, SignedProposal] = field(default_factory=dict)
    alternatives: Mapping[tuple[int, bytes], SignedProposal] = field(default_factory=dict)
    votes: Mapping[tuple[int, int], VoteSet] = field(default_factory=dict)
    validity: Mapping[bytes, bool] = field(default_factory=dict)
    validating: frozenset[bytes] = frozenset()
    building: bool = False
    prevote_timeout_set: bool = False
    precommit_timeout_set: bool = False
    pol_seen: bool = False
    propose_timeout_held: bool = False
    decision: bytes | None = None
    future: tuple[Message, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    # ------------------------------------------------------------------ queries

    def proposer(self, round_: int | None = None) -> int:
        """The validator index proposing at this height in ``round_`` (default: current)."""
        return self.config.schedule.proposer(self.height, self.round if round_ is None else round_)

    def vote_set(self, round_: int, vote_type: int) -> VoteSet:
        """The votes of ``vote_type`` in ``round_`` at this height (empty if none)."""
        found = self.votes.get((round_, vote_type))
        return found if found is not None else VoteSet.empty(self.config.total_power)

    def proposal_for(self, round_: int, block_hash: bytes) -> SignedProposal | None:
        """A valid proposal of ``round_`` for ``block_hash`` from its proposer, if held."""
        first = self.proposals.get(round_)
        if first is not None and first.proposal.block_hash == block_hash:
            return first
        return self.alternatives.get((round_, block_hash))

    def _has_support(self, round_: int, block_hash: bytes) -> bool:
        """More than a third of the power voted for ``block_hash`` in ``round_``."""
        total = self.config.total_power
        return any(
            exceeds_one_third(self.vote_set(round_, t).power_for(block_hash), total)
            for t in (PREVOTE, PRECOMMIT)
        )

    def is_proposer(self) -> bool:
        """This validator proposes in the current round."""
        return self.config.my_index is not None and self.proposer() == self.config.my_index

    # ------------------------------------------------------------------ step

    def step(self, event: Event) -> tuple[Tendermint, list[Effect]]:
        """Advance on ``event``; returns the new state and the effects to carry out.

        Raises:
            ConsensusError: ``StartHeight`` for a height not above the current one.
        """
        out: list[Effect] = []
        state = self
        if isinstance(event, StartHeight):
            state = self._start_height(event.height, out, event.resume)
        elif self.height == 0:
            out.append(Rejected("consensus has not started a height yet"))
            return self, out
        elif isinstance(event, ProposalReceived):
            state = self._on_proposal(event.proposal, out)
        elif isinstance(event, VoteReceived):
            state = self._on_vote(event.vote, out)
        elif isinstance(event, TimeoutFired):
            state = self._on_timeout(event, out)
        elif isinstance(event, ProposalBuilt):
            state = self._on_built(event, out)
        else:
            state = self._on_validated(event)
        return state._apply_rules(out)._release_propose_timeout(out), out

    # ------------------------------------------------------------------ heights and rounds

    def _start_height(
        self, height: int, out: list[Effect], resume: Resume | None = None
    ) -> Tendermint:
        """Line 10 and Line 52-54: fresh per-height state, then ``StartRound(0)``.

        With ``resume`` (a restart in the middle of this height), the lock is restored and
        the height starts at ``resume.round`` instead (see :class:`Resume`).
        """
        if height <= self.height:
            raise ConsensusError(f"cannot start height {height}: already at {self.height}")
        replay = tuple(m for m in self.future if _height_of(m) == height)
        keep = tuple(m for m in self.future if _height_of(m) > height)
        state = Tendermint(self.config, height=height, future=keep, evidence=self.evidence)
        first_round = 0
        if resume is not None:
            first_round = max(0, resume.round)
            if resume.locked_value is not None and 0 <= resume.locked_round < first_round:
                state = replace(
                    state, locked_value=resume.locked_value, locked_round=resume.locked_round
                )
                if resume.locked_block is not None and (
                    self.config.hash_block(resume.locked_block) == resume.locked_value
                ):
                    # Re-proposed with validRound -1: the POL prevotes did not survive.
                    state = replace(
                        state,
                        valid_value=resume.locked_value,
                        valid_round=-1,
                        valid_block=resume.locked_block,
                    )
        state = state._start_round(first_round, out)
        for message in replay:
            if isinstance(message, SignedProposal):
                state = state._on_proposal(message, out)
            else:
                state = state._on_vote(message, out)
        return state

    def _start_round(self, round_: int, out: list[Effect]) -> Tendermint:
        """Line 11-21: StartRound(round)."""
        state = replace(
            self,
            round=round_,
            round_step=Step.PROPOSE,
            building=False,
            prevote_timeout_set=False,
            precommit_timeout_set=False,
            pol_seen=False,
            propose_timeout_held=False,
        )
        if state.is_proposer():
            if state.valid_value is not None and state.valid_block is not None:
                # Line 15-16: re-propose validValue with its POL round.
                state = state._broadcast_proposal(
                    state.valid_block, state.valid_value, state.valid_round, out
                )
            else:
                # Line 17: getValue(); the block arrives as ProposalBuilt.
                out.append(BuildProposal(state.height, round_))
                state = replace(state, building=True)
        # Line 20 (for every validator, see module docstring).
        state._schedule(TimeoutKind.PROPOSE, out)
        return state

    # ------------------------------------------------------------------ inputs

    def _on_proposal(self, signed: SignedProposal, out: list[Effect]) -> Tendermint:
        p = signed.proposal
        cfg = self.config
        if p.chain_id != cfg.chain_id or p.type != PROPOSAL_TYPE:
            out.append(Rejected("proposal for another chain or of a wrong type"))
            return self
        if p.height < self.height or (p.height == self.height and self.decision is not None):
            return self  # past height: ignored
        if p.height > self.height + cfg.future_heights:
            return self  # too far ahead: ignored (sync catches this node up)
        if signed.proposer_index != cfg.schedule.proposer(p.height, p.round):
            out.append(Rejected(f"proposal at ({p.height}, {p.round}) from a non-proposer"))
            return self
        if p.pol_round >= p.round:
            out.append(Rejected("proposal's POL round is not below its round"))
            return self
        if p.height == self.height:
            existing = self.proposals.get(p.round)
            if existing == signed:
                return self  # duplicate
        else:
            existing = None
            if signed in self.future:
                return self
        if cfg.hash_block(signed.block) != p.block_hash:
            out.append(Rejected("proposal's block does not match its block hash"))
            return self
        public_key = cfg.validators.validators[signed.proposer_index].public_key
        if not cfg.verify(public_key, signed.signed_bytes(), signed.signature):
            out.append(Rejected("bad proposal signature"))
            return self
        if p.height > self.height:
            return self._buffer(signed, signed.proposer_index)
        if existing is not None:
            if existing.proposal == p or (p.round, p.block_hash) in self.alternatives:
                return self  # the same proposal signed again
            state = self._record(ProposalEquivocation(existing, signed), out)
            if not state._has_support(p.round, p.block_hash):
                return state
            # Another honest validator voted for this block: keep it, so a decision on
            # it (Line 49) or a lock (Line 36) can use it.
            alternatives = dict(state.alternatives)
            alternatives[(p.round, p.block_hash)] = signed
            state = replace(state, alternatives=alternatives)
        else:
            if self._over_round_limit(signed.proposer_index, p.round):
                return self
            proposals = dict(self.proposals)
            proposals[p.round] = signed
            state = replace(self, proposals=proposals)
        if p.block_hash not in state.validity and p.block_hash not in state.validating:
            out.append(ValidateBlock(p.height, p.block_hash, signed.block))
            state = replace(state, validating=state.validating | {p.block_hash})
        return state

    def _on_vote(self, signed: SignedVote, out: list[Effect]) -> Tendermint:
        v = signed.vote
        cfg = self.config
        validators = cfg.validators.validators
        if v.chain_id != cfg.chain_id or v.type not in (PREVOTE, PRECOMMIT):
            out.append(Rejected("vote for another chain or of a wrong type"))
            return self
        if not 0 <= signed.validator_index < len(validators):
            out.append(Rejected(f"vote from unknown validator {signed.validator_index}"))
            return self
        if v.height < self.height or (v.height == self.height and self.decision is not None):
            return self
        if v.height > self.height + cfg.future_heights:
            return self
        if v.height == self.height:
            counted = self.votes.get((v.round, v.type))
            if counted is not None and _holds(counted, signed):
                return self  # duplicate
        elif signed in self.future:
            return self
        public_key = validators[signed.validator_index].public_key
        if not cfg.verify(public_key, signed.signed_bytes(), signed.signature):
            out.append(Rejected("bad vote signature"))
            return self
        if v.height > self.height:
            return self._buffer(signed, signed.validator_index)
        if self._over_round_limit(signed.validator_index, v.round):
            return self
        return self._add_vote(signed, out)

    def _on_timeout(self, event: TimeoutFired, out: list[Effect]) -> Tendermint:
        if event.height != self.height or event.round != self.round or self.decision is not None:
            return self
        if event.kind is TimeoutKind.PROPOSE and self.round_step is Step.PROPOSE:
            if self._busy_with_proposal():
                return replace(self, propose_timeout_held=True)  # see the module docstring
            # Line 57-60: OnTimeoutPropose: prevote nil.
            return self._vote(PREVOTE, NIL, out)._enter(Step.PREVOTE)
        if event.kind is TimeoutKind.PREVOTE and self.round_step is Step.PREVOTE:
            # Line 61-64: OnTimeoutPrevote: precommit nil.
            return self._vote(PRECOMMIT, NIL, out)._enter(Step.PRECOMMIT)
        if event.kind is TimeoutKind.PRECOMMIT:
            # Line 65-67: OnTimeoutPrecommit: next round.
            return self._start_round(self.round + 1, out)
        return self

    def _busy_with_proposal(self) -> bool:
        """Building this round's proposal, or validating the block it proposes."""
        if self.building:
            return True
        proposal = self.proposals.get(self.round)
        return proposal is not None and proposal.proposal.block_hash in self.validating

    def _release_propose_timeout(self, out: list[Effect]) -> Tendermint:
        """A held ``timeoutPropose`` whose wait is over and no rule prevoted: Line 57."""
        if (
            self.propose_timeout_held
            and self.round_step is Step.PROPOSE
            and self.decision is None
            and not self._busy_with_proposal()
        ):
            return (
                replace(self, propose_timeout_held=False)
                ._vote(PREVOTE, NIL, out)
                ._enter(Step.PREVOTE)
            )
        return self

    def _on_built(self, event: ProposalBuilt, out: list[Effect]) -> Tendermint:
        if (
            not self.building
            or event.height != self.height
            or event.round != self.round
            or self.round_step is not Step.PROPOSE
            or self.decision is not None
        ):
            return self
        block_hash = self.config.hash_block(event.block)
        # Line 18 (for a fresh value: vr = -1).
        state = replace(self, building=False)
        return state._broadcast_proposal(event.block, block_hash, -1, out)

    def _on_validated(self, event: BlockValidated) -> Tendermint:
        if event.height != self.height or event.block_hash in self.validity:
            return self
        validity = dict(self.validity)
        validity[event.block_hash] = event.valid
        return replace(self, validity=validity, validating=self.validating - {event.block_hash})

    # ------------------------------------------------------------------ the upon rules

    def _apply_rules(self, out: list[Effect]) -> Tendermint:
        """Fire the paper's ``upon`` rules until none applies."""
        state = self
        while state.height and state.decision is None:
            after = state._fire_one(out)
            if after is state:
                break
            state = after
        return state

    def _fire_one(self, out: list[Effect]) -> Tendermint:
        """Apply the first rule whose condition holds; ``self`` if none does."""
        for rule in (
            Tendermint._rule_decide,
            Tendermint._rule_round_skip,
            Tendermint._rule_prevote_fresh,
            Tendermint._rule_prevote_pol,
            Tendermint._rule_prevote_timeout,
            Tendermint._rule_lock,
            Tendermint._rule_precommit_nil,
            Tendermint._rule_precommit_timeout,
        ):
            after = rule(self, out)
            if after is not self:
                return after
        return self

    def _rule_decide(self, out: list[Effect]) -> Tendermint:
        """Line 49-54: upon PROPOSAL(h, r, v, *) from proposer(h, r) and 2f+1
        PRECOMMIT(h, r, id(v)) while decision[h] = nil: if valid(v), decide v."""
        for (round_, vote_type), votes in self.votes.items():
            if vote_type != PRECOMMIT:
                continue
            block_hash = votes.quorum_hash()
            if not block_hash:
                continue
            proposal = self.proposal_for(round_, block_hash)
            if proposal is None:
                continue
            if self.validity.get(block_hash) is not True:
                continue
            signatures = [
                CommitSig(v.validator_index, v.signature) for v in votes.votes_for(block_hash)
            ]
            commit = Commit(self.height, round_, block_hash, signatures)
            out.append(Decide(self.height, round_, block_hash, proposal.block, commit, proposal))
            return replace(self, decision=block_hash)
        return self

    def _rule_round_skip(self, out: list[Effect]) -> Tendermint:
        """Line 55-56: upon f+1 messages of (h, round) with round > round_p:
        StartRound(round)."""
        total = self.config.total_power
        powers = self.config.powers
        target = -1
        senders: dict[int, set[int]] = {}
        for (round_, _), votes in self.votes.items():
            if round_ > self.round:
                senders.setdefault(round_, set()).update(votes.votes)
        for round_, indexes in senders.items():
            if round_ > target and exceeds_one_third(sum(powers[i] for i in indexes), total):
                target = round_
        if target < 0:
            return self
        return self._start_round(target, out)

    def _rule_prevote_fresh(self, out: list[Effect]) -> Tendermint:
        """Line 22-27: upon PROPOSAL(h, r, v, -1) from proposer(h, r) while step = propose:
        prevote id(v) if valid(v) and (lockedRound = -1 or lockedValue = v), else nil."""
        proposal = self.proposals.get(self.round)
        if self.round_step is not Step.PROPOSE or proposal is None:
            return self
        p = proposal.proposal
        if p.pol_round != -1:
            return self
        valid = self.validity.get(p.block_hash)
        if valid is None:
            return self  # valid(v) still being computed
        # Safety rule "lock": a locked validator prevotes only its locked value.
        accept = valid and (self.locked_round == -1 or self.locked_value == p.block_hash)
        return self._vote(PREVOTE, p.block_hash if accept else NIL, out)._enter(Step.PREVOTE)

    def _rule_prevote_pol(self, out: list[Effect]) -> Tendermint:
        """Line 28-33: upon PROPOSAL(h, r, v, vr) from proposer(h, r) and 2f+1
        PREVOTE(h, vr, id(v)) while step = propose and 0 <= vr < r: prevote id(v) if
        valid(v) and (lockedRound <= vr or lockedValue = v), else nil."""
        proposal = self.proposals.get(self.round)
        if self.round_step is not Step.PROPOSE or proposal is None:
            return self
        p = proposal.proposal
        if not 0 <= p.pol_round < self.round:
            return self
        if not self.vote_set(p.pol_round, PREVOTE).has_quorum_for(p.block_hash):
            return self
        valid = self.validity.get(p.block_hash)
        if valid is None:
            return self
        # Safety rule "unlock on a newer POL": a lock from before vr gives way.
        accept = valid and (self.locked_round <= p.pol_round or self.locked_value == p.block_hash)
        return self._vote(PREVOTE, p.block_hash if accept else NIL, out)._enter(Step.PREVOTE)

    def _rule_prevote_timeout(self, out: list[Effect]) -> Tendermint:
        """Line 34-35: upon 2f+1 PREVOTE(h, r, *) while step = prevote for the first
        time: schedule timeoutPrevote."""
        if (
            self.round_step is not Step.PREVOTE
            or self.prevote_timeout_set
            or not self.vote_set(self.round, PREVOTE).has_quorum_any()
        ):
            return self
        self._schedule(TimeoutKind.PREVOTE, out)
        return replace(self, prevote_timeout_set=True)

    def _rule_lock(self, out: list[Effect]) -> Tendermint:
        """Line 36-43: upon PROPOSAL(h, r, v, *) from proposer(h, r) and 2f+1
        PREVOTE(h, r, id(v)) while valid(v) and step >= prevote for the first time:
        lock v and precommit it (if step = prevote); validValue = v in any case."""
        if self.pol_seen or self.round_step < Step.PREVOTE:
            return self
        block_hash = self.vote_set(self.round, PREVOTE).quorum_hash()
        if not block_hash or self.validity.get(block_hash) is not True:
            return self
        proposal = self.proposal_for(self.round, block_hash)
        if proposal is None:
            return self
        state = replace(
            self,
            pol_seen=True,
            valid_value=block_hash,
            valid_round=self.round,
            valid_block=proposal.block,
        )
        if self.round_step is Step.PREVOTE:
            # Safety rule "lock": remember v and the round of its 2f+1 prevotes.
            state = replace(state, locked_value=block_hash, locked_round=self.round)
            state = state._vote(PRECOMMIT, block_hash, out)._enter(Step.PRECOMMIT)
        return state

    def _rule_precommit_nil(self, out: list[Effect]) -> Tendermint:
        """Line 44-46: upon 2f+1 PREVOTE(h, r, nil) while step = prevote: precommit nil."""
        if self.round_step is not Step.PREVOTE:
            return self
        if not self.vote_set(self.round, PREVOTE).has_quorum_for(NIL):
            return self
        return self._vote(PRECOMMIT, NIL, out)._enter(Step.PRECOMMIT)

    def _rule_precommit_timeout(self, out: list[Effect]) -> Tendermint:
        """Line 47-48: upon 2f+1 PRECOMMIT(h, r, *) for the first time: schedule
        timeoutPrecommit."""
        if self.precommit_timeout_set:
            return self
        if not self.vote_set(self.round, PRECOMMIT).has_quorum_any():
            return self
        self._schedule(TimeoutKind.PRECOMMIT, out)
        return replace(self, precommit_timeout_set=True)

    # ------------------------------------------------------------------ helpers

    def _enter(self, step: Step) -> Tendermint:
        return replace(self, round_step=step, propose_timeout_held=False)

    def _schedule(self, kind: TimeoutKind, out: list[Effect]) -> None:
        duration = self.config.timeouts.duration(kind, self.round)
        out.append(ScheduleTimeout(kind, self.height, self.round, duration))

    def _vote(self, vote_type: int, block_hash: bytes, out: list[Effect]) -> Tendermint:
        """Sign and broadcast this validator's vote, and count it (observers do nothing)."""
        cfg = self.config
        if cfg.my_index is None or cfg.sign is None:
            return self
        vote = Vote(cfg.chain_id, vote_type, self.height, self.round, block_hash)
        signed = SignedVote(vote, cfg.my_index, b"")
        signature = cfg.sign(self.height, self.round, sign_step(vote_type), signed.signed_bytes())
        signed = SignedVote(vote, cfg.my_index, signature)
        out.append(BroadcastVote(signed))
        return self._add_vote(signed, out)

    def _broadcast_proposal(
        self, block: bytes, block_hash: bytes, pol_round: int, out: list[Effect]
    ) -> Tendermint:
        """Line 18: sign and broadcast ⟨PROPOSAL, h, r, v, vr⟩ and take it as received."""
        cfg = self.config
        if cfg.my_index is None or cfg.sign is None:
            return self
        body = Proposal(cfg.chain_id, PROPOSAL_TYPE, self.height, self.round, block_hash, pol_round)
        unsigned = SignedProposal(body, cfg.my_index, b"", block)
        signature = cfg.sign(self.height, self.round, SignStep.PROPOSAL, unsigned.signed_bytes())
        signed = SignedProposal(body, cfg.my_index, signature, block)
        out.append(BroadcastProposal(signed))
        proposals = dict(self.proposals)
        proposals[self.round] = signed
        validity = dict(self.validity)
        validity[block_hash] = True  # this node built or already validated it
        return replace(self, proposals=proposals, validity=validity)

    def _add_vote(self, signed: SignedVote, out: list[Effect]) -> Tendermint:
        v = signed.vote
        key = (v.round, v.type)
        power = self.config.powers[signed.validator_index]
        current = self.vote_set(v.round, v.type)
        # An equivocator's second vote counts only towards a block that already has
        # support (a held proposal or over a third of the power): a certificate for it
        # may contain that vote. Its power is never counted twice for one block.
        supported = bool(v.block_hash) and (
            self.proposal_for(v.round, v.block_hash) is not None
            or exceeds_one_third(current.power_for(v.block_hash), self.config.total_power)
        )
        votes, outcome, existing = current.add(signed, power, count_conflict=supported)
        if outcome is AddOutcome.DUPLICATE:
            return self
        state = self
        if votes is not current:
            all_votes = dict(self.votes)
            all_votes[key] = votes
            state = replace(self, votes=all_votes)
        if outcome is AddOutcome.CONFLICT:
            assert existing is not None
            state = state._record(VoteEquivocation(existing, signed), out)
        return state

    def _record(self, evidence: Evidence, out: list[Effect]) -> Tendermint:
        if evidence in self.evidence:
            return self
        out.append(ReportEvidence(evidence))
        kept = (*self.evidence, evidence)[-self.config.evidence_limit :]
        return replace(self, evidence=kept)

    def _buffer(self, message: Message, sender: int) -> Tendermint:
        """Keep a verified message for a later height, at most a few per validator."""
        mine = sum(1 for m in self.future if _sender_of(m) == sender)
        if mine >= self.config.future_per_validator:
            return self
        return replace(self, future=(*self.future, message))

    def _over_round_limit(self, sender: int, round_: int) -> bool:
        """Whether a message of ``sender`` for ``round_`` would exceed its future rounds."""
        if round_ <= self.round:
            return False
        rounds = {r for (r, _), vs in self.votes.items() if r > self.round and sender in vs.votes}
        rounds.update(
            r for r, p in self.proposals.items() if r > self.round and p.proposer_index == sender
        )
        return round_ not in rounds and len(rounds) >= self.config.future_rounds_per_validator


def _holds(votes: VoteSet, signed: SignedVote) -> bool:
    """Whether ``votes`` already holds this vote (as a first or a counted conflicting one)."""
    first = votes.votes.get(signed.validator_index)
    if first is not None and first.vote == signed.vote:
        return True
    return (signed.validator_index, signed.vote.block_hash) in votes.conflicting


def _height_of(message: Message) -> int:
    return message.proposal.height if isinstance(message, SignedProposal) else message.vote.height


def _sender_of(message: Message) -> int:
    if isinstance(message, SignedProposal):
        return message.proposer_index
    return message.validator_index


def start(config: TendermintConfig, height: int) -> tuple[Tendermint, list[Effect]]:
    """A machine for ``config`` started at ``height``, with its first effects."""
    return Tendermint(config).step(StartHeight(height))
