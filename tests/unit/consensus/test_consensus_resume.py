"""A validator restarted in the middle of a height: ``StartHeight`` with a ``Resume``.

The scenario that made a network halt: every validator precommitted A at (1, 0) and all
were restarted before the commit. Their signers refuse to sign again in round 0, so each
must take the height up at round 1, still locked on A, and the proposer must re-propose A.
"""

from __future__ import annotations

import hashlib

from xinlian.codec import encode
from xinlian.consensus import (
    BlockValidated,
    BroadcastProposal,
    BroadcastVote,
    BuildProposal,
    Resume,
    SignedProposal,
    SignedVote,
    StartHeight,
    Tendermint,
    TendermintConfig,
    Timeouts,
    VoteReceived,
)
from xinlian.consensus.events import Effect, Event, ProposalReceived
from xinlian.consensus.messages import PROPOSAL_TYPE, Proposal, SignStep
from xinlian.crypto.suite import get_suite
from xinlian.types import Validator, ValidatorSet, Vote, VoteType

SUITE = get_suite("ed25519")
CHAIN = "resume-chain"
KEYS = [hashlib.sha256(b"resume-validator-%d" % i).digest() for i in range(4)]
PUBS = [SUITE.keypair_from_private(k).public_key for k in KEYS]
BLOCK_A = b"block-a"
BLOCK_B = b"block-b"


def h(block: bytes) -> bytes:
    return hashlib.sha256(block).digest()


A, B = h(BLOCK_A), h(BLOCK_B)


def config(me: int, signed: list[tuple[int, int, SignStep]]) -> TendermintConfig:
    validators = ValidatorSet([Validator(PUBS[i], 1, f"v{i}") for i in range(4)])

    def sign(height: int, round_: int, step: SignStep, payload: bytes) -> bytes:
        signed.append((height, round_, step))
        return SUITE.sign(KEYS[me], payload)

    return TendermintConfig(
        chain_id=CHAIN,
        validators=validators,
        my_index=me,
        sign=sign,
        verify=SUITE.verify,
        hash_block=h,
        timeouts=Timeouts(),
    )


def feed(state: Tendermint, *events: Event) -> tuple[Tendermint, list[Effect]]:
    out: list[Effect] = []
    for event in events:
        state, effects = state.step(event)
        out.extend(effects)
    return state, out


def prevote(i: int, round_: int, block_hash: bytes) -> VoteReceived:
    body = Vote(CHAIN, int(VoteType.PREVOTE), 1, round_, block_hash)
    return VoteReceived(SignedVote(body, i, SUITE.sign(KEYS[i], encode(body))))


def proposal(round_: int, block: bytes) -> ProposalReceived:
    index = round_ % 4  # the proposer of (1, r) with equal powers
    body = Proposal(CHAIN, PROPOSAL_TYPE, 1, round_, h(block), -1)
    return ProposalReceived(
        SignedProposal(body, index, SUITE.sign(KEYS[index], encode(body)), block)
    )


def test_a_locked_proposer_resumes_at_the_next_round_and_re_proposes_its_locked_block() -> None:
    signed: list[tuple[int, int, SignStep]] = []
    resume = Resume(round=1, locked_value=A, locked_round=0, locked_block=BLOCK_A)
    state, effects = Tendermint(config(1, signed)).step(StartHeight(1, resume))
    assert (state.height, state.round) == (1, 1)
    assert (state.locked_value, state.locked_round) == (A, 0)
    sent = [e.proposal.proposal for e in effects if isinstance(e, BroadcastProposal)]
    assert [(p.round, p.block_hash, p.pol_round) for p in sent] == [(1, A, -1)]
    assert not any(isinstance(e, BuildProposal) for e in effects)
    # It prevotes its own (locked) block too; nothing is signed again in round 0.
    assert signed == [(1, 1, SignStep.PROPOSAL), (1, 1, SignStep.PREVOTE)]
    votes = [e.vote.vote for e in effects if isinstance(e, BroadcastVote)]
    assert [(v.round, v.block_hash) for v in votes] == [(1, A)]


def test_a_resumed_lock_still_binds_the_prevote() -> None:
    """Line 22-27 after a restart: locked on A, the validator prevotes nil for B."""
    signed: list[tuple[int, int, SignStep]] = []
    resume = Resume(round=2, locked_value=A, locked_round=0, locked_block=BLOCK_A)
    state, _ = Tendermint(config(3, signed)).step(StartHeight(1, resume))
    assert state.round == 2
    # B is validated first; a locked validator then prevotes nil for it, valid or not.
    state, effects = feed(state, proposal(2, BLOCK_B), BlockValidated(1, B, True))
    votes = [e.vote.vote for e in effects if isinstance(e, BroadcastVote)]
    assert [(v.type, v.round, v.block_hash) for v in votes] == [(int(VoteType.PREVOTE), 2, b"")]


def test_a_lock_from_the_resumed_round_or_later_is_ignored() -> None:
    """A lock is only kept if it is from an earlier round than the one resumed."""
    signed: list[tuple[int, int, SignStep]] = []
    resume = Resume(round=1, locked_value=A, locked_round=1, locked_block=BLOCK_A)
    state, _ = Tendermint(config(3, signed)).step(StartHeight(1, resume))
    assert (state.locked_value, state.locked_round) == (None, -1)


def test_a_locked_block_that_does_not_match_its_hash_is_not_re_proposed() -> None:
    signed: list[tuple[int, int, SignStep]] = []
    resume = Resume(round=1, locked_value=A, locked_round=0, locked_block=BLOCK_B)
    state, effects = Tendermint(config(1, signed)).step(StartHeight(1, resume))
    assert (state.locked_value, state.locked_round) == (A, 0)  # the lock still binds
    assert state.valid_block is None
    assert any(isinstance(e, BuildProposal) for e in effects)


def test_without_resume_a_height_starts_at_round_zero_unlocked() -> None:
    signed: list[tuple[int, int, SignStep]] = []
    state, _ = Tendermint(config(3, signed)).step(StartHeight(1))
    assert (state.round, state.locked_round, state.locked_value) == (0, -1, None)
