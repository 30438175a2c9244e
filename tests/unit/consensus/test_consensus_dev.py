"""The development producer as a pure state machine: ticks, production, commits."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.consensus import BlockCommitted, DevProducer, ProduceBlock, ScheduleTick, Tick

START = 1_000_000


def producer(**kw: int | bool) -> DevProducer:
    return DevProducer(height=5, last_time_ms=START, **kw)  # type: ignore[arg-type]


def test_defaults() -> None:
    p = DevProducer(height=0, last_time_ms=0)
    assert (p.interval_ms, p.empty_interval_ms, p.producing) == (200, 1000, False)


def test_tick_before_due_schedules_the_due_time() -> None:
    p = producer()
    state, effects = p.step(Tick(START + 50, pending=3))
    assert state == p
    assert effects == [ScheduleTick(START + 200)]


def test_idle_chain_waits_the_empty_interval() -> None:
    p = producer()
    assert p.step(Tick(START + 500, pending=0)) == (p, [ScheduleTick(START + 1000)])
    state, effects = p.step(Tick(START + 1000, pending=0))
    assert effects == [ProduceBlock(6, START + 1000)]
    assert state.producing


def test_produce_when_due_with_pending() -> None:
    p = producer()
    state, effects = p.step(Tick(START + 200, pending=1))
    assert effects == [ProduceBlock(height=6, time_ms=START + 200)]
    assert state == dataclasses.replace(p, producing=True)
    late_state, late = p.step(Tick(START + 5000, pending=1))
    assert late == [ProduceBlock(6, START + 5000)]
    assert late_state.producing


def test_no_second_produce_while_producing() -> None:
    p, _ = producer().step(Tick(START + 200, pending=1))
    for now in (START + 200, START + 400, START + 10_000):
        state, effects = p.step(Tick(now, pending=5))
        assert effects == []
        assert state == p


def test_commit_advances_and_schedules_the_next_tick() -> None:
    p, _ = producer().step(Tick(START + 300, pending=1))
    state, effects = p.step(BlockCommitted(6, START + 300))
    assert state == DevProducer(6, START + 300, 200, 1000, False)
    assert effects == [ScheduleTick(START + 500)]
    _, effects = state.step(Tick(START + 500, pending=1))
    assert effects == [ProduceBlock(7, START + 500)]


@pytest.mark.parametrize("height", [0, 5, 7, 100])
def test_commit_for_the_wrong_height_is_ignored(height: int) -> None:
    p, _ = producer().step(Tick(START + 300, pending=1))
    assert p.step(BlockCommitted(height, START + 999)) == (p, [])


def test_commit_from_elsewhere_while_idle_is_accepted() -> None:
    p = producer()
    state, effects = p.step(BlockCommitted(6, START + 10))
    assert (state.height, state.last_time_ms, state.producing) == (6, START + 10, False)
    assert effects == [ScheduleTick(START + 210)]


def test_time_is_strictly_increasing_even_if_the_clock_is_not() -> None:
    p = producer(interval_ms=0, empty_interval_ms=0)
    # a clock behind the last block waits for it
    assert p.step(Tick(START - 500, pending=1)) == (p, [ScheduleTick(START)])
    # a clock equal to the last block time gives the next millisecond
    _, effects = p.step(Tick(START, pending=1))
    assert effects == [ProduceBlock(6, START + 1)]


def test_step_is_pure() -> None:
    p = producer()
    first = p.step(Tick(START + 200, pending=1))
    second = p.step(Tick(START + 200, pending=1))
    assert first == second
    assert p == producer()  # the old state is unchanged
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.height = 9  # type: ignore[misc]


events = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.integers(-2000, 3000), st.integers(0, 3)),
        st.tuples(st.just("commit"), st.integers(-1, 2), st.integers(-500, 500)),
        st.tuples(st.just("deliver"), st.just(0), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(events, st.integers(0, 300), st.integers(1, 1500))
def test_simulated_node(script: list[tuple[str, int, int]], interval: int, empty: int) -> None:
    """Drive the producer like a node would: a clock that may jump around, stray commits,
    and the node committing the block it was asked for. Check the safety properties."""
    state = DevProducer(height=0, last_time_ms=START, interval_ms=interval, empty_interval_ms=empty)
    clock = START
    outstanding: ProduceBlock | None = None
    produced: list[ProduceBlock] = []
    for kind, a, b in script:
        if kind == "tick":
            clock += a
            before = state
            state, effects = state.step(Tick(clock, pending=b))
            if before.producing:
                assert effects == []
                continue
            due = before.last_time_ms + (interval if b else empty)
            if clock < due:
                assert effects == [ScheduleTick(due)]
                assert not state.producing
            else:
                assert outstanding is None, "two ProduceBlock effects outstanding"
                (effect,) = effects
                assert isinstance(effect, ProduceBlock)
                assert effect.height == before.height + 1
                assert effect.time_ms > before.last_time_ms
                assert effect.time_ms >= clock
                outstanding = effect
                produced.append(effect)
                assert state.producing
        elif kind == "commit":  # a stray or stale commit notice
            height = state.height + a
            before = state
            state, effects = state.step(BlockCommitted(height, before.last_time_ms + 1 + b))
            if height != before.height + 1:
                assert (state, effects) == (before, [])
            else:
                outstanding = None
                assert state.height == height and not state.producing
        elif outstanding is not None:  # the node finishes the block it was asked for
            state, effects = state.step(BlockCommitted(outstanding.height, outstanding.time_ms))
            assert effects == [ScheduleTick(outstanding.time_ms + interval)]
            assert state.last_time_ms == outstanding.time_ms
            outstanding = None
    heights = [p.height for p in produced]
    assert heights == sorted(heights)
