"""Vote tallying by voting power: exact > 2/3 and > 1/3 thresholds, duplicates, conflicts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinlian.consensus.messages import SignedVote
from xinlian.consensus.votes import AddOutcome, VoteSet, exceeds_one_third, is_quorum
from xinlian.types import Validator, ValidatorSet, Vote

A = b"a" * 32
B = b"b" * 32


def vote(index: int, block_hash: bytes, round_: int = 0) -> SignedVote:
    return SignedVote(Vote("c", 1, 1, round_, block_hash), index, bytes([index]) * 64)


def tally(powers: list[int], voters: list[int], block_hash: bytes = A) -> VoteSet:
    votes = VoteSet.empty(sum(powers))
    for i in voters:
        votes, outcome, _ = votes.add(vote(i, block_hash), powers[i])
        assert outcome is AddOutcome.ADDED
    return votes


@pytest.mark.parametrize(
    ("powers", "voters", "quorum"),
    [
        ([1, 1, 1, 1], [0, 1], False),
        ([1, 1, 1, 1], [0, 1, 2], True),  # 3 of 4 needed
        ([1] * 7, [0, 1, 2, 3], False),
        ([1] * 7, [0, 1, 2, 3, 4], True),  # 5 of 7 needed
        ([1] * 6, [0, 1, 2, 3], False),  # exactly 2/3 is not enough
        ([1] * 6, [0, 1, 2, 3, 4], True),
        ([10, 1, 1, 1], [0], True),  # 10 of 13 > 26/3
        ([10, 1, 1, 1], [1, 2, 3], False),
        ([8, 1, 1, 1, 1], [0], False),  # 8 of 12: exactly 2/3
        ([8, 1, 1, 1, 1], [0, 4], True),
    ],
)
def test_quorum_is_more_than_two_thirds_of_power(
    powers: list[int], voters: list[int], quorum: bool
) -> None:
    votes = tally(powers, voters)
    assert votes.has_quorum_for(A) is quorum
    assert votes.has_quorum_any() is quorum
    assert (votes.quorum_hash() == A) is quorum
    assert not votes.has_quorum_for(B)


@given(st.lists(st.integers(1, 50), min_size=1, max_size=10), st.integers(0, 600))
def test_thresholds_match_the_validator_set_quorum(powers: list[int], power: int) -> None:
    vs = ValidatorSet([Validator(bytes([i]) * 32, p, f"v{i}") for i, p in enumerate(powers)])
    total = vs.total_power
    assert is_quorum(power, total) == (power >= vs.quorum())
    assert is_quorum(power, total) == (3 * power > 2 * total)
    assert exceeds_one_third(power, total) == (3 * power > total)


def test_one_third_threshold() -> None:
    assert not exceeds_one_third(1, 4)
    assert exceeds_one_third(2, 4)  # f + 1 with n = 4
    assert not exceeds_one_third(2, 7)
    assert exceeds_one_third(3, 7)  # f + 1 with n = 7


def test_mixed_votes_reach_quorum_for_anything_but_no_block() -> None:
    powers = [1, 1, 1, 1]
    votes = VoteSet.empty(4)
    for i, h in enumerate([A, A, b"", B]):
        votes, _, _ = votes.add(vote(i, h), powers[i])
    assert votes.has_quorum_any()
    assert votes.quorum_hash() is None
    assert votes.power_for(A) == 2
    assert votes.power_for(b"") == 1


def test_duplicate_vote_is_ignored() -> None:
    votes = tally([1, 1, 1, 1], [0])
    again, outcome, existing = votes.add(vote(0, A), 1)
    assert outcome is AddOutcome.DUPLICATE
    assert again is votes
    assert existing is None
    assert votes.power == 1


def test_conflicting_vote_is_reported_and_counted_once() -> None:
    votes = tally([1, 1, 1, 1], [0])
    after, outcome, existing = votes.add(vote(0, B), 1)
    assert outcome is AddOutcome.CONFLICT
    assert existing == vote(0, A)
    assert after is votes
    assert after.power == 1
    assert after.power_for(B) == 0


def test_conflicting_vote_counts_for_its_block_only_when_allowed() -> None:
    votes = tally([1, 1, 1, 1], [0, 1], block_hash=B)
    votes, _, _ = votes.add(vote(2, A), 1)
    after, outcome, _ = votes.add(vote(2, B), 1, count_conflict=True)
    assert outcome is AddOutcome.CONFLICT
    assert after.power == 3  # the validator once for "anything"
    assert after.power_for(B) == 3  # and once for B
    assert after.power_for(A) == 1
    assert [v.validator_index for v in after.votes_for(B)] == [0, 1, 2]
    again, outcome, _ = after.add(vote(2, B), 1, count_conflict=True)
    assert outcome is AddOutcome.DUPLICATE
    assert again is after


def test_add_does_not_change_the_original() -> None:
    empty = VoteSet.empty(4)
    one, _, _ = empty.add(vote(0, A), 1)
    assert empty.power == 0
    assert dict(empty.votes) == {}
    assert one.power == 1


def test_votes_for_lists_one_per_validator_in_index_order() -> None:
    votes = tally([1, 1, 1, 1], [3, 1, 0])
    assert [v.validator_index for v in votes.votes_for(A)] == [0, 1, 3]
