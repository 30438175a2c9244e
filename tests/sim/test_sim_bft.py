"""Whole-network simulations of Tendermint: safety, certificates, equal state, progress.

Each scenario runs over a block of seeds (``XINLIAN_SIM_SEEDS`` scales the block for a
deeper run, e.g. ``XINLIAN_SIM_SEEDS=2000``). A failing seed is reproduced with
``simulate(SCENARIOS[name], seed)`` and, once fixed, pinned in ``PINNED``.
"""

from __future__ import annotations

import os

import pytest
from simnet import (
    CONFLICT,
    EQUIVOCATE,
    FUTURE,
    INVALID,
    SILENT,
    InvariantError,
    Scenario,
    Simulator,
    simulate,
)

P22 = (frozenset({0, 1}), frozenset({2, 3}))
SEVEN = (1, 1, 1, 1, 1, 1, 1)

# f Byzantine of 3f + 1 (f = 1 of 4, f = 2 of 7): every scenario must stay safe and make
# progress once the network is stable.
SCENARIOS: dict[str, Scenario] = {
    "honest4": Scenario(),
    "equivocating-proposer4": Scenario(byzantine=((0, EQUIVOCATE),)),
    "conflicting-votes4": Scenario(byzantine=((1, CONFLICT),)),
    "invalid-blocks4": Scenario(byzantine=((2, INVALID),)),
    "future-heights4": Scenario(byzantine=((3, FUTURE),)),
    "withheld-votes4": Scenario(byzantine=((3, SILENT),)),
    "partition4": Scenario(partition=P22, heal_ms=4_000),
    "chaos4": Scenario(
        byzantine=((0, CONFLICT),),
        drop=0.3,
        duplicate=0.2,
        max_latency_ms=600,
        gst_ms=6_000,
        target_height=6,
    ),
    "partition-equivocator4": Scenario(
        byzantine=((3, EQUIVOCATE),),
        partition=(frozenset({0, 3}), frozenset({1, 2})),
        heal_ms=5_000,
    ),
    "weighted4": Scenario(powers=(10, 1, 1, 1)),
    "equivocate-conflict7": Scenario(powers=SEVEN, byzantine=((0, EQUIVOCATE), (4, CONFLICT))),
    "invalid-silent7": Scenario(powers=SEVEN, byzantine=((2, INVALID), (5, SILENT))),
    "future-conflict7": Scenario(powers=SEVEN, byzantine=((1, FUTURE), (6, CONFLICT))),
    "weighted7": Scenario(powers=(5, 4, 3, 3, 2, 2, 1), byzantine=((0, CONFLICT),)),
}

SCALE = int(os.environ.get("XINLIAN_SIM_SEEDS", "0"))
SEEDS = {name: SCALE or (20 if sc.n > 4 else 40) for name, sc in SCENARIOS.items()}

# Seeds that failed during development, kept as regression cases.
PINNED: list[tuple[str, int, str]] = [
    ("equivocating-proposer4", 2, "node held the first of two proposals, never decided"),
    ("conflicting-votes4", 0, "certificate held an equivocator's precommit: not counted"),
    ("conflicting-votes4", 1, "certificate held an equivocator's precommit: not counted"),
    ("conflicting-votes4", 2, "certificate held an equivocator's precommit: not counted"),
    ("conflicting-votes4", 3, "POL prevotes never relayed: locks never released"),
]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_safe_and_live_over_seeds(name: str) -> None:
    scenario = SCENARIOS[name]
    failures: list[str] = []
    heights = 0
    for seed in range(SEEDS[name]):
        try:
            result = simulate(scenario, seed)
        except InvariantError as exc:
            failures.append(str(exc))
            continue
        heights += len(result.final)
        assert min(result.heights.values()) >= scenario.target_height
    assert not failures, f"{name}: {len(failures)} failing seeds:\n" + "\n".join(failures)
    assert heights >= SEEDS[name] * scenario.target_height


@pytest.mark.parametrize(("name", "seed", "why"), PINNED)
def test_pinned_regression_seeds(name: str, seed: int, why: str) -> None:
    result = simulate(SCENARIOS[name], seed)
    assert min(result.heights.values()) >= SCENARIOS[name].target_height, why


def test_the_same_seed_gives_the_same_run() -> None:
    scenario = SCENARIOS["chaos4"]
    assert simulate(scenario, 7) == simulate(scenario, 7)
    assert simulate(scenario, 7).final != simulate(scenario, 8).final


def test_byzantine_behaviour_is_seen_and_recorded() -> None:
    def total(name: str, counter: str) -> int:
        return sum(getattr(simulate(SCENARIOS[name], seed), counter) for seed in range(6))

    assert total("equivocating-proposer4", "evidence") > 0
    assert total("conflicting-votes4", "evidence") > 0
    assert total("future-heights4", "rejected") > 0  # bad signatures, unknown validators


def test_partition_without_quorum_decides_nothing_until_it_heals() -> None:
    scenario = SCENARIOS["partition4"]
    for seed in range(5):
        result = simulate(scenario, seed)
        assert scenario.heal_ms is not None
        assert min(result.decided_at.values()) >= scenario.heal_ms


# More than a third faulty or cut off: the chain must halt, and halt safely.
HALTING: dict[str, Scenario] = {
    "two-of-four-silent": Scenario(byzantine=((2, SILENT), (3, SILENT)), expect_progress=False),
    "two-two-partition-forever": Scenario(partition=P22, heal_ms=None, expect_progress=False),
    "one-silent-one-cut-off": Scenario(
        byzantine=((3, SILENT),),
        partition=(frozenset({0}), frozenset({1, 2, 3})),
        heal_ms=None,
        expect_progress=False,
    ),
    "three-of-seven-silent": Scenario(
        powers=SEVEN, byzantine=((0, SILENT), (3, SILENT), (5, SILENT)), expect_progress=False
    ),
}


@pytest.mark.parametrize("name", sorted(HALTING))
def test_more_than_a_third_faulty_halts_safely(name: str) -> None:
    scenario = HALTING[name]
    for seed in range(4):
        sim = Simulator(scenario, seed)
        result = sim.run()
        assert result.final == {}, f"seed {seed}: decided without a quorum"
        assert result.end_ms > scenario.run_ms - 1_000  # it kept running, rounds went on
        for node in sim.honest_nodes():
            assert node.machine.height == 1
            assert node.machine.decision is None


def test_a_lost_quorum_halts_then_resumes_without_forking() -> None:
    """Progress, then a 2 | 2 partition (halt), then it heals (progress again)."""
    scenario = Scenario(
        partition=P22,
        partition_from_ms=2_000,
        heal_ms=6_000,
        gst_ms=0,
        expect_progress=False,
        run_ms=9_000,
    )
    for seed in range(3):
        result = Simulator(scenario, seed).run()
        times = sorted(result.decided_at.values())
        before = [t for t in times if t < 2_000]
        during = [t for t in times if 2_500 <= t < 6_000]
        after = [t for t in times if t >= 6_000]
        assert before, f"seed {seed}: no progress before the partition"
        assert not during, f"seed {seed}: decided without a quorum"
        assert after, f"seed {seed}: no progress after the partition healed"


def test_a_fork_would_be_caught() -> None:
    """The checker itself: two different decisions at one height raise."""
    sim = Simulator(SCENARIOS["honest4"], 0)
    sim.run()
    node = sim.honest_nodes()[0]
    decision = node.decided[1]
    other = sim.honest_nodes()[1]
    forged = type(decision)(
        decision.height,
        decision.round,
        b"\x01" * 32,
        decision.block,
        decision.commit,
        decision.proposal,
    )
    with pytest.raises(InvariantError):
        sim.on_decide(other, forged)


# Validators crash and restart with their storage rolled back (as a damaged write-ahead
# log leaves it), some with their signing record lost too: still safe and live, and no
# validator ever signs two different messages at one (height, round, step). (A validator
# that lost its record votes again only once the network has passed where it was; with
# more than f such validators at once the chain halts, safely, until an operator acts.)
RESTARTS: dict[str, Scenario] = {
    "rollback4": Scenario(restarts=((1, 2_500, 3, False),), target_height=8),
    "rollback-lost-record4": Scenario(restarts=((2, 2_500, 3, True),), target_height=8),
    "rollback-twice4": Scenario(
        restarts=((0, 2_500, 2, False), (3, 3_500, 4, True), (0, 5_000, 1, False)),
        target_height=10,
    ),
    "rollback-conflict7": Scenario(
        powers=SEVEN,
        byzantine=((6, CONFLICT),),
        restarts=((1, 2_500, 3, True), (2, 3_000, 2, False)),
        target_height=8,
    ),
}


@pytest.mark.parametrize("name", sorted(RESTARTS))
def test_restarted_with_rolled_back_storage_never_signs_twice(name: str) -> None:
    scenario = RESTARTS[name]
    failures: list[str] = []
    refused = 0
    for seed in range(SCALE or 20):
        sim = Simulator(scenario, seed)
        try:
            result = sim.run()
        except InvariantError as exc:
            failures.append(str(exc))
            continue
        refused += sim.refused_signatures
        assert min(result.heights.values()) >= scenario.target_height
        assert len(sim.signed) > 0
    assert not failures, f"{name}: {len(failures)} failing seeds:\n" + "\n".join(failures)


def test_the_double_sign_check_catches_an_unguarded_validator() -> None:
    """Without the guarded signer, a validator restarted with rolled-back storage signs
    again where it had signed; the simulator's check must catch it."""
    caught = 0
    for seed in range(10):
        scenario = Scenario(restarts=((0, 2_500, 3, False),), target_height=8, guarded=False)
        try:
            Simulator(scenario, seed).run()
        except InvariantError as exc:
            assert "signed two different messages" in str(exc)
            caught += 1
    assert caught > 0
