"""Weighted round-robin proposer rotation: fairness proportional to power, determinism."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.consensus.proposer import ProposerSchedule, schedule_for


def test_equal_powers_rotate_in_order() -> None:
    s = ProposerSchedule([1, 1, 1, 1])
    assert [s.at_step(k) for k in range(8)] == [0, 1, 2, 3, 0, 1, 2, 3]


def test_height_and_round_advance_the_rotation() -> None:
    s = ProposerSchedule([1, 1, 1, 1])
    assert s.proposer(1, 0) == 0
    assert s.proposer(2, 0) == 1
    assert s.proposer(1, 1) == 1
    assert s.proposer(2, 3) == s.at_step(4)


def test_heavy_validator_proposes_proportionally() -> None:
    s = ProposerSchedule([10, 1, 1, 1])
    counts = Counter(s.at_step(k) for k in range(13 * 5))
    assert counts == {0: 50, 1: 5, 2: 5, 3: 5}
    # Smooth: the light validators are spread out, not bunched at the end.
    first = [s.at_step(k) for k in range(13)]
    assert first.index(1) < 6


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=8))
def test_every_period_gives_each_validator_its_power(powers: list[int]) -> None:
    s = ProposerSchedule(powers)
    total = sum(powers)
    for period in range(2):
        counts = Counter(s.at_step(period * total + k) for k in range(total))
        assert [counts[i] for i in range(len(powers))] == powers
    assert s.priorities_before(total) == (0,) * len(powers)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=6), st.integers(0, 2000))
def test_memoised_steps_equal_a_fresh_schedule(powers: list[int], step: int) -> None:
    fresh = ProposerSchedule(powers)
    shared = schedule_for(tuple(powers))
    assert shared.at_step(step) == fresh.at_step(step)
    assert schedule_for(tuple(powers)) is shared


def test_large_total_power_uses_checkpoints() -> None:
    s = ProposerSchedule([1_000_000, 3, 2])
    # Validator 0 proposes almost always; the others get their turn within the period.
    window = [s.at_step(k) for k in range(10_000, 10_100)]
    assert Counter(window)[0] >= 99
    assert s.at_step(10_050) == ProposerSchedule([1_000_000, 3, 2]).at_step(10_050)


@pytest.mark.parametrize("powers", [[], [1, 0], [-1]])
def test_rejects_empty_or_powerless_sets(powers: list[int]) -> None:
    with pytest.raises(ValueError):
        ProposerSchedule(powers)
