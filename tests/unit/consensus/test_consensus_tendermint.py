"""The Tendermint state machine, rule by rule (paper: Algorithm 1, lines in test names)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

import pytest
from msgspec.structs import replace as struct_replace

from xinlian.codec import encode
from xinlian.consensus import (
    BlockValidated,
    BroadcastProposal,
    BroadcastVote,
    BuildProposal,
    ConsensusError,
    Decide,
    ProposalBuilt,
    ProposalReceived,
    Rejected,
    ReportEvidence,
    ScheduleTimeout,
    SignedProposal,
    SignedVote,
    SignStep,
    StartHeight,
    Step,
    Tendermint,
    TendermintConfig,
    TimeoutFired,
    TimeoutKind,
    Timeouts,
    ValidateBlock,
    VoteReceived,
)
from xinlian.consensus.events import Effect, Event
from xinlian.consensus.messages import PROPOSAL_TYPE, Proposal, ProposalEquivocation
from xinlian.consensus.tendermint import start
from xinlian.crypto.suite import get_suite
from xinlian.types import Validator, ValidatorSet, Vote, VoteType

SUITE = get_suite("ed25519")
CHAIN = "unit-chain"
KEYS = [hashlib.sha256(b"unit-validator-%d" % i).digest() for i in range(7)]
PUBS = [SUITE.keypair_from_private(k).public_key for k in KEYS]
PV = int(VoteType.PREVOTE)
PC = int(VoteType.PRECOMMIT)
NIL = b""
ME = 3  # with powers 1,1,1,1 the proposer of (1, r) is r % 4: ME proposes in round 3
BLOCK_A = b"block-a"
BLOCK_B = b"block-b"
T = TypeVar("T")


def h(block: bytes) -> bytes:
    return hashlib.sha256(block).digest()


A, B = h(BLOCK_A), h(BLOCK_B)


def config(me: int | None = ME, powers: Sequence[int] = (1, 1, 1, 1)) -> TendermintConfig:
    validators = ValidatorSet([Validator(PUBS[i], p, f"v{i}") for i, p in enumerate(powers)])
    signed: list[tuple[int, int, SignStep]] = []

    def sign(height: int, round_: int, step: SignStep, payload: bytes) -> bytes:
        signed.append((height, round_, step))
        assert me is not None
        return SUITE.sign(KEYS[me], payload)

    return TendermintConfig(
        chain_id=CHAIN,
        validators=validators,
        my_index=me,
        sign=sign if me is not None else None,
        verify=SUITE.verify,
        hash_block=h,
    )


def vote(i: int, type_: int, round_: int, block_hash: bytes, height: int = 1) -> VoteReceived:
    body = Vote(CHAIN, type_, height, round_, block_hash)
    return VoteReceived(SignedVote(body, i, SUITE.sign(KEYS[i], encode(body))))


def proposal(
    round_: int, block: bytes, pol_round: int = -1, height: int = 1, proposer: int | None = None
) -> ProposalReceived:
    index = (height - 1 + round_) % 4 if proposer is None else proposer
    body = Proposal(CHAIN, PROPOSAL_TYPE, height, round_, h(block), pol_round)
    return ProposalReceived(
        SignedProposal(body, index, SUITE.sign(KEYS[index], encode(body)), block)
    )


def feed(state: Tendermint, *events: Event) -> tuple[Tendermint, list[Effect]]:
    out: list[Effect] = []
    for event in events:
        state, effects = state.step(event)
        out.extend(effects)
    return state, out


def votes_of(effects: list[Effect]) -> list[tuple[int, int, bytes]]:
    return [
        (e.vote.vote.type, e.vote.vote.round, e.vote.vote.block_hash)
        for e in effects
        if isinstance(e, BroadcastVote)
    ]


def of(effects: list[Effect], kind: type[T]) -> list[T]:
    return [e for e in effects if isinstance(e, kind)]


def started(me: int | None = ME, powers: Sequence[int] = (1, 1, 1, 1)) -> Tendermint:
    state, _ = start(config(me, powers), 1)
    return state


def with_valid(state: Tendermint, block: bytes, round_: int = 0) -> Tendermint:
    """Receive ``block``'s proposal in ``round_`` and validate it (no rule consequences)."""
    state, _ = feed(state, proposal(round_, block), BlockValidated(1, h(block), True))
    return state


def locked_on_a() -> Tendermint:
    """Round 0: A proposed, prevoted by 3, so ME locks A and precommits it."""
    state, effects = feed(
        started(),
        proposal(0, BLOCK_A),
        BlockValidated(1, A, True),
        vote(0, PV, 0, A),
        vote(1, PV, 0, A),
    )
    assert (PC, 0, A) in votes_of(effects)
    assert (state.locked_value, state.locked_round) == (A, 0)
    return state


def to_round(state: Tendermint, round_: int) -> Tendermint:
    """Move to ``round_`` through 2f+1 nil precommits and the precommit timeout."""
    while state.round < round_:
        r = state.round
        state, _ = feed(
            state,
            *(vote(i, PC, r, NIL) for i in (0, 1, 2)),
            TimeoutFired(TimeoutKind.PRECOMMIT, 1, r),
        )
    return state


# ---------------------------------------------------------------- start and proposer


def test_start_as_non_proposer_waits_with_a_propose_timeout() -> None:
    state, effects = start(config(), 1)
    assert effects == [ScheduleTimeout(TimeoutKind.PROPOSE, 1, 0, 3000)]
    assert (state.height, state.round, state.round_step) == (1, 0, Step.PROPOSE)


def test_proposer_asks_the_node_for_a_block_then_proposes_and_prevotes_it() -> None:
    """Line 14-18 and 22-27: getValue(), broadcast the proposal, prevote own block."""
    state, effects = start(config(me=0), 1)
    assert effects[0] == BuildProposal(1, 0)
    state, effects = state.step(ProposalBuilt(1, 0, BLOCK_A))
    sent = of(effects, BroadcastProposal)
    assert len(sent) == 1
    body = sent[0].proposal.proposal
    assert (body.height, body.round, body.block_hash, body.pol_round) == (1, 0, A, -1)
    assert votes_of(effects) == [(PV, 0, A)]
    assert state.round_step is Step.PREVOTE


def test_a_late_built_block_for_an_old_round_is_ignored() -> None:
    state, _ = start(config(me=0), 1)
    state, _ = feed(state, TimeoutFired(TimeoutKind.PROPOSE, 1, 0))
    state = to_round(state, 1)
    after, effects = state.step(ProposalBuilt(1, 0, BLOCK_A))
    assert effects == []
    assert after == state


def test_timeouts_grow_with_the_round() -> None:
    t = Timeouts()
    for kind in TimeoutKind:
        durations = [t.duration(kind, r) for r in range(5)]
        assert durations == sorted(set(durations))
    state = to_round(started(), 2)
    _, effects = feed(state, *(vote(i, PC, 2, NIL) for i in (0, 1, 2)))
    assert of(effects, ScheduleTimeout) == [ScheduleTimeout(TimeoutKind.PRECOMMIT, 1, 2, 2000)]


# ---------------------------------------------------------------- Line 22-27


def test_line_22_prevote_waits_for_validation_then_prevotes_the_valid_block() -> None:
    state, effects = started().step(proposal(0, BLOCK_A))
    assert effects == [ValidateBlock(1, A, BLOCK_A)]
    assert state.round_step is Step.PROPOSE
    state, effects = state.step(BlockValidated(1, A, True))
    assert votes_of(effects) == [(PV, 0, A)]
    assert state.round_step is Step.PREVOTE


def test_line_22_invalid_block_gets_a_nil_prevote() -> None:
    _, effects = feed(started(), proposal(0, BLOCK_A), BlockValidated(1, A, False))
    assert votes_of(effects) == [(PV, 0, NIL)]


def test_line_22_locked_validator_prevotes_nil_for_another_fresh_value() -> None:
    """Safety rule "lock": locked on A, a fresh proposal of B gets nil."""
    state = to_round(locked_on_a(), 1)
    _, effects = feed(state, proposal(1, BLOCK_B), BlockValidated(1, B, True))
    assert votes_of(effects) == [(PV, 1, NIL)]


def test_line_22_locked_validator_prevotes_its_locked_value() -> None:
    state = to_round(locked_on_a(), 1)
    _, effects = feed(state, proposal(1, BLOCK_A))
    assert votes_of(effects) == [(PV, 1, A)]


# ---------------------------------------------------------------- Line 28-33


def pol_while_precommitted(state: Tendermint, block_hash: bytes) -> Tendermint:
    """In the current round: ME times out to a nil prevote and a nil precommit, then
    validators 0, 1 and 2 prevote ``block_hash`` (a POL that ME sees too late to lock)."""
    r = state.round
    state, _ = feed(state, TimeoutFired(TimeoutKind.PROPOSE, 1, r))
    state, _ = feed(state, vote(0, PV, r, block_hash), vote(1, PV, r, block_hash))
    state, effects = feed(state, TimeoutFired(TimeoutKind.PREVOTE, 1, r))
    assert votes_of(effects) == [(PC, r, NIL)]
    state, _ = feed(state, vote(2, PV, r, block_hash))
    assert state.vote_set(r, PV).has_quorum_for(block_hash)
    return state


def test_line_28_newer_pol_unlocks() -> None:
    """Safety rule "unlock on a newer POL": locked on A in round 0, B has 2f+1 prevotes in
    round 1 and is re-proposed in round 2 with vr = 1: prevote B."""
    state = pol_while_precommitted(to_round(locked_on_a(), 1), B)
    state = to_round(state, 2)
    assert (state.locked_value, state.locked_round) == (A, 0)
    state, effects = feed(state, proposal(2, BLOCK_B, pol_round=1))
    assert votes_of(effects) == []  # valid(v) not known yet
    _, effects = state.step(BlockValidated(1, B, True))
    assert votes_of(effects) == [(PV, 2, B)]


def test_line_28_older_pol_than_the_lock_gets_nil() -> None:
    """A POL from before the lock does not unlock: B's POL is in round 0, ME locks A in
    round 1, and B re-proposed in round 2 with vr = 0 gets nil."""
    state = pol_while_precommitted(started(), B)
    state, _ = feed(state, proposal(0, BLOCK_B), BlockValidated(1, B, True))
    assert (state.valid_value, state.locked_round) == (B, -1)  # Line 42-43 only
    state = to_round(state, 1)
    state, _ = feed(state, proposal(1, BLOCK_A), BlockValidated(1, A, True))
    state, _ = feed(state, *(vote(i, PV, 1, A) for i in (0, 1)))
    assert (state.locked_value, state.locked_round) == (A, 1)
    state = to_round(state, 2)
    _, effects = feed(state, proposal(2, BLOCK_B, pol_round=0))
    assert votes_of(effects) == [(PV, 2, NIL)]


def test_line_28_waits_for_the_pol_votes() -> None:
    state = to_round(started(), 2)
    state, effects = feed(state, proposal(2, BLOCK_B, pol_round=1), BlockValidated(1, B, True))
    assert votes_of(effects) == []
    _, effects = feed(state, *(vote(i, PV, 1, B) for i in (0, 1, 2)))
    assert votes_of(effects) == [(PV, 2, B)]


# ---------------------------------------------------------------- Line 34-48


def test_line_34_and_61_prevote_timeout_then_nil_precommit() -> None:
    state, _ = feed(started(), proposal(0, BLOCK_A), BlockValidated(1, A, True))
    state, effects = feed(state, vote(0, PV, 0, B), vote(1, PV, 0, NIL))
    assert of(effects, ScheduleTimeout) == [ScheduleTimeout(TimeoutKind.PREVOTE, 1, 0, 1000)]
    _, again = feed(state, vote(2, PV, 0, NIL))
    assert of(again, ScheduleTimeout) == []  # "for the first time"
    state, effects = state.step(TimeoutFired(TimeoutKind.PREVOTE, 1, 0))
    assert votes_of(effects) == [(PC, 0, NIL)]
    assert state.round_step is Step.PRECOMMIT


def test_line_36_lock_sets_locked_and_valid_value() -> None:
    state = locked_on_a()
    assert (state.valid_value, state.valid_round, state.valid_block) == (A, 0, BLOCK_A)
    assert state.round_step is Step.PRECOMMIT


def test_line_36_after_the_prevote_step_sets_valid_value_but_does_not_lock() -> None:
    state = pol_while_precommitted(started(), A)
    assert state.round_step is Step.PRECOMMIT
    state, effects = feed(state, proposal(0, BLOCK_A), BlockValidated(1, A, True))
    assert votes_of(effects) == []
    assert (state.valid_value, state.valid_round, state.valid_block) == (A, 0, BLOCK_A)
    assert (state.locked_value, state.locked_round) == (None, -1)


def test_line_44_nil_prevotes_give_a_nil_precommit() -> None:
    state, _ = feed(started(), TimeoutFired(TimeoutKind.PROPOSE, 1, 0))
    state, effects = feed(state, vote(0, PV, 0, NIL), vote(1, PV, 0, NIL))
    assert votes_of(effects) == [(PC, 0, NIL)]
    assert state.round_step is Step.PRECOMMIT


def test_line_47_and_65_precommit_timeout_starts_the_next_round() -> None:
    state, effects = feed(started(), *(vote(i, PC, 0, NIL) for i in (0, 1, 2)))
    assert of(effects, ScheduleTimeout) == [ScheduleTimeout(TimeoutKind.PRECOMMIT, 1, 0, 1000)]
    state, effects = state.step(TimeoutFired(TimeoutKind.PRECOMMIT, 1, 0))
    assert (state.round, state.round_step) == (1, Step.PROPOSE)
    assert of(effects, ScheduleTimeout) == [ScheduleTimeout(TimeoutKind.PROPOSE, 1, 1, 3500)]


def test_stale_timeouts_are_ignored() -> None:
    state = to_round(started(), 1)
    for kind in TimeoutKind:
        for height, round_ in ((1, 0), (2, 1)):
            after, effects = state.step(TimeoutFired(kind, height, round_))
            assert after == state
            assert effects == []


# ---------------------------------------------------------------- Line 49-54


def test_line_49_decides_with_a_commit_certificate() -> None:
    state = locked_on_a()
    state, effects = feed(state, vote(0, PC, 0, A), vote(2, PC, 0, A))
    decided = of(effects, Decide)
    assert len(decided) == 1
    d = decided[0]
    assert isinstance(d, Decide)
    assert (d.height, d.round, d.block_hash, d.block) == (1, 0, A, BLOCK_A)
    assert [s.validator_index for s in d.commit.signatures] == [0, 2, 3]
    message = encode(Vote(CHAIN, PC, 1, 0, A))
    for sig in d.commit.signatures:
        assert SUITE.verify(PUBS[sig.validator_index], message, sig.signature)
    assert state.decision == A
    after, more = feed(state, vote(1, PC, 0, A), TimeoutFired(TimeoutKind.PRECOMMIT, 1, 0))
    assert more == []
    assert after == state


def test_line_49_decides_on_an_earlier_rounds_precommits() -> None:
    state, _ = feed(started(), vote(0, PV, 2, NIL), vote(1, PV, 2, NIL))  # Line 55 to round 2
    assert state.round == 2
    state, effects = feed(
        state,
        proposal(0, BLOCK_A),
        BlockValidated(1, A, True),
        *(vote(i, PC, 0, A) for i in (0, 1, 2)),
    )
    assert [(d.round, d.block_hash) for d in of(effects, Decide)] == [(0, A)]


def test_line_49_waits_for_validation_and_never_decides_an_invalid_block() -> None:
    state, effects = feed(started(), proposal(0, BLOCK_A), *(vote(i, PC, 0, A) for i in (0, 1, 2)))
    assert of(effects, Decide) == []
    _, invalid = state.step(BlockValidated(1, A, False))
    assert of(invalid, Decide) == []
    _, valid = state.step(BlockValidated(1, A, True))
    assert len(of(valid, Decide)) == 1


def test_next_height_starts_fresh_and_replays_buffered_messages() -> None:
    state = locked_on_a()
    state, _ = feed(state, vote(0, PC, 0, A), vote(2, PC, 0, A))
    early = proposal(0, BLOCK_B, height=2)
    state, effects = feed(state, early, vote(0, PV, 0, B, height=2))
    assert effects == []
    assert len(state.future) == 2
    state, effects = state.step(StartHeight(2))
    assert (state.height, state.round, state.locked_round, state.valid_round) == (2, 0, -1, -1)
    assert state.decision is None
    assert ValidateBlock(2, B, BLOCK_B) in effects
    assert state.future == ()
    assert state.vote_set(0, PV).power == 1


def test_start_height_must_move_forward() -> None:
    state = started()
    with pytest.raises(ConsensusError):
        state.step(StartHeight(1))


# ---------------------------------------------------------------- Line 55 and 15-16


def test_line_55_round_skip_on_more_than_a_third() -> None:
    state, effects = feed(started(), vote(0, PV, 5, NIL))
    assert state.round == 0  # f = 1 vote is not enough
    state, effects = feed(state, vote(1, PC, 5, NIL))
    assert state.round == 5
    assert ScheduleTimeout(TimeoutKind.PROPOSE, 1, 5, 5500) in effects


def test_line_55_counts_power_not_validators() -> None:
    state, _ = feed(started(powers=(1, 1, 1, 10)), vote(0, PV, 4, NIL), vote(1, PV, 4, NIL))
    assert state.round == 0  # 2 of 13 power
    state, _ = feed(started(me=0, powers=(1, 1, 1, 10)), vote(3, PV, 4, NIL))
    assert state.round == 4  # 10 of 13


def test_line_15_proposer_reproposes_its_valid_value_with_its_pol_round() -> None:
    state = to_round(locked_on_a(), 2)
    _, effects = feed(
        state,
        *(vote(i, PC, 2, NIL) for i in (0, 1, 2)),
        TimeoutFired(TimeoutKind.PRECOMMIT, 1, 2),
    )
    assert of(effects, BuildProposal) == []  # ME proposes round 3: no new block
    (sent,) = of(effects, BroadcastProposal)
    assert isinstance(sent, BroadcastProposal)
    body = sent.proposal.proposal
    assert (body.round, body.block_hash, body.pol_round) == (3, A, 0)
    assert sent.proposal.block == BLOCK_A
    assert votes_of(effects)[-1] == (PV, 3, A)


# ---------------------------------------------------------------- message checks


@pytest.mark.parametrize(
    "event",
    [
        VoteReceived(SignedVote(Vote(CHAIN, PV, 1, 0, A), 0, b"\x00" * 64)),
        VoteReceived(SignedVote(Vote(CHAIN, PV, 1, 0, A), 9, b"\x00" * 64)),
        VoteReceived(SignedVote(Vote("other", PV, 1, 0, A), 0, b"\x00" * 64)),
        VoteReceived(SignedVote(Vote(CHAIN, 7, 1, 0, A), 0, b"\x00" * 64)),
        replace(
            proposal(0, BLOCK_A),
            proposal=struct_replace(proposal(0, BLOCK_A).proposal, signature=b"x"),
        ),
        proposal(0, BLOCK_A, proposer=1),
        replace(
            proposal(0, BLOCK_A), proposal=struct_replace(proposal(0, BLOCK_A).proposal, block=b"?")
        ),
        proposal(1, BLOCK_A, pol_round=1),
    ],
    ids=[
        "bad-vote-signature",
        "unknown-validator",
        "other-chain",
        "bad-vote-type",
        "bad-proposal-signature",
        "not-the-proposer",
        "block-hash-mismatch",
        "pol-round-not-below-round",
    ],
)
def test_invalid_messages_are_dropped(event: Event) -> None:
    state = started()
    after, effects = state.step(event)
    assert len(effects) == 1
    assert isinstance(effects[0], Rejected)
    assert after == state


def test_a_vote_signed_by_another_validator_is_rejected() -> None:
    body = Vote(CHAIN, PV, 1, 0, A)
    forged = SignedVote(body, 0, SUITE.sign(KEYS[1], encode(body)))
    _, effects = started().step(VoteReceived(forged))
    assert isinstance(effects[0], Rejected)


def test_duplicate_votes_are_ignored() -> None:
    state, _ = feed(started(), vote(0, PV, 0, A))
    after, effects = state.step(vote(0, PV, 0, A))
    assert effects == []
    assert after is state


def test_equivocating_votes_are_evidence_and_counted_once() -> None:
    state, _ = feed(started(), vote(0, PV, 0, A), vote(1, PV, 0, A))
    state, effects = state.step(vote(0, PV, 0, B))
    evidence = of(effects, ReportEvidence)
    assert len(evidence) == 1
    assert len(state.evidence) == 1
    assert state.vote_set(0, PV).power == 2
    # Reported once even if the conflicting vote arrives again.
    _, again = state.step(vote(0, PV, 0, B))
    assert of(again, ReportEvidence) == []


def test_equivocating_proposer_is_evidence_and_the_first_proposal_stays() -> None:
    state, _ = feed(started(), proposal(0, BLOCK_A))
    state, effects = state.step(proposal(0, BLOCK_B))
    assert [type(e.evidence) for e in of(effects, ReportEvidence)] == [ProposalEquivocation]
    assert state.proposals[0].proposal.block_hash == A
    assert state.proposal_for(0, B) is None


def test_a_second_proposal_with_votes_behind_it_is_kept_for_decision() -> None:
    state, _ = feed(started(), proposal(0, BLOCK_A), BlockValidated(1, A, True))
    state, _ = feed(state, *(vote(i, PC, 0, B) for i in (0, 1, 2)))
    state, effects = feed(state, proposal(0, BLOCK_B))
    assert ValidateBlock(1, B, BLOCK_B) in effects
    _, effects = state.step(BlockValidated(1, B, True))
    assert [d.block_hash for d in of(effects, Decide)] == [B]


def test_past_and_far_future_heights_are_ignored() -> None:
    state = to_round(started(), 0)
    for event in (vote(0, PV, 0, A, height=3), proposal(0, BLOCK_A, height=3)):
        after, effects = state.step(event)
        assert (after, effects) == (state, [])
    decided, _ = feed(locked_on_a(), vote(0, PC, 0, A), vote(2, PC, 0, A))
    next_height, _ = decided.step(StartHeight(2))
    after, effects = next_height.step(vote(1, PC, 0, A, height=1))
    assert (after, effects) == (next_height, [])


def test_future_height_buffer_is_bounded_per_validator() -> None:
    state = started()
    for r in range(20):
        state, _ = state.step(vote(0, PV, r, NIL, height=2))
    assert len(state.future) == state.config.future_per_validator
    state, _ = state.step(vote(1, PV, 0, NIL, height=2))
    assert len(state.future) == state.config.future_per_validator + 1


def test_future_rounds_are_bounded_per_validator() -> None:
    state = started()
    for r in (10, 20, 30, 40):
        state, _ = state.step(vote(0, PV, r, NIL))
    assert sorted(k[0] for k in state.votes) == [10, 20]
    state, _ = state.step(vote(0, PC, 20, NIL))  # a round it already holds is fine
    assert (20, PC) in state.votes


def test_not_started_rejects_messages() -> None:
    state = Tendermint(config())
    after, effects = state.step(vote(0, PV, 0, A))
    assert after is state
    assert isinstance(effects[0], Rejected)


def test_step_does_not_change_the_old_state() -> None:
    before = started()
    snapshot = replace(before)
    after, _ = feed(before, proposal(0, BLOCK_A), BlockValidated(1, A, True), vote(0, PV, 0, A))
    assert before == snapshot
    assert before.votes == {}
    assert after.votes != {}


def test_observer_follows_and_decides_without_voting() -> None:
    state, effects = start(config(me=None), 1)
    state, effects = feed(
        state,
        proposal(0, BLOCK_A),
        BlockValidated(1, A, True),
        *(vote(i, PV, 0, A) for i in (0, 1, 2)),
        *(vote(i, PC, 0, A) for i in (0, 1, 2)),
    )
    assert votes_of(effects) == []
    assert [d.block_hash for d in of(effects, Decide)] == [A]


def test_config_checks_its_own_index() -> None:
    with pytest.raises(ValueError):
        replace(config(), my_index=4)
    with pytest.raises(ValueError):
        replace(config(), sign=None)


# ---------------------------------------------------------------- slow getValue / valid(v)


def test_a_propose_timeout_while_building_waits_for_the_block() -> None:
    state, _ = start(config(me=0), 1)
    state, effects = state.step(TimeoutFired(TimeoutKind.PROPOSE, 1, 0))
    assert votes_of(effects) == [] and state.propose_timeout_held
    assert state.round_step is Step.PROPOSE
    state, effects = state.step(ProposalBuilt(1, 0, BLOCK_A))
    assert len(of(effects, BroadcastProposal)) == 1
    assert votes_of(effects) == [(PV, 0, A)]  # Line 22 on its own proposal, not nil
    assert state.round_step is Step.PREVOTE and not state.propose_timeout_held


@pytest.mark.parametrize(("valid", "expected"), [(True, A), (False, NIL)])
def test_a_propose_timeout_while_validating_waits_for_the_result(
    valid: bool, expected: bytes
) -> None:
    state, _ = feed(started(), proposal(0, BLOCK_A))
    state, effects = state.step(TimeoutFired(TimeoutKind.PROPOSE, 1, 0))
    assert votes_of(effects) == [] and state.propose_timeout_held
    state, effects = state.step(BlockValidated(1, A, valid))
    assert votes_of(effects) == [(PV, 0, expected)]
    assert state.round_step is Step.PREVOTE


def test_a_held_timeout_prevotes_nil_when_no_rule_applies_after_validation() -> None:
    # Round 1 re-proposes A with a POL from round 0 that this node never saw: Line 28
    # cannot fire, so once A is validated the held timeout's nil prevote goes out.
    state = to_round(started(), 1)
    state, _ = feed(state, proposal(1, BLOCK_A, pol_round=0))
    state, effects = state.step(TimeoutFired(TimeoutKind.PROPOSE, 1, 1))
    assert votes_of(effects) == []
    state, effects = state.step(BlockValidated(1, A, True))
    assert votes_of(effects) == [(PV, 1, NIL)]


def test_a_block_built_after_leaving_the_propose_step_is_dropped() -> None:
    state, _ = start(config(me=0), 1)
    moved = replace(state, round_step=Step.PREVOTE)
    after, effects = moved.step(ProposalBuilt(1, 0, BLOCK_A))
    assert effects == [] and after == moved  # never a proposal signed after a prevote
