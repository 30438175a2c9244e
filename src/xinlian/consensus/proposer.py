"""Proposer rotation weighted by voting power, as in Tendermint.

Every validator holds a priority, all zero at the start. One rotation step adds each
validator's power to its priority, picks the highest priority as proposer (ties go to the
lowest index) and subtracts the total power from the winner. Over any ``total_power``
consecutive steps from the start each validator proposes exactly ``power`` times, and the
priorities return to zero, so the sequence is periodic with period ``total_power``.

Step ``k`` (from 0) chooses the proposer of ``(height, round)`` with
``k = height - 1 + round``: each new height advances the rotation by one (as CometBFT
does), and each round at a height advances it by one more from that height's start.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

_CHECKPOINT = 256
_MEMO = 65_536


class ProposerSchedule:
    """The proposer sequence of one validator set (a deterministic, memoised function).

    Args:
        powers: voting power of each validator, in validator-set order (all positive).
    """

    def __init__(self, powers: Sequence[int]) -> None:
        if not powers or any(p <= 0 for p in powers):
            raise ValueError("proposer rotation needs at least one validator, all with power > 0")
        self.powers = tuple(powers)
        self.total = sum(self.powers)
        # Priorities before step k, every _CHECKPOINT steps of the first period.
        self._checkpoints: list[tuple[int, ...]] = [(0,) * len(self.powers)]
        self._chosen: dict[int, int] = {}

    def _advance(self, priorities: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        raised = [p + w for p, w in zip(priorities, self.powers, strict=True)]
        best = max(range(len(raised)), key=lambda i: (raised[i], -i))
        raised[best] -= self.total
        return best, tuple(raised)

    def priorities_before(self, step: int) -> tuple[int, ...]:
        """The priorities before rotation step ``step``."""
        step %= self.total
        while (len(self._checkpoints) - 1) * _CHECKPOINT < step:
            priorities = self._checkpoints[-1]
            for _ in range(_CHECKPOINT):
                _, priorities = self._advance(priorities)
            self._checkpoints.append(priorities)
        base = step // _CHECKPOINT
        priorities = self._checkpoints[base]
        for _ in range(step - base * _CHECKPOINT):
            _, priorities = self._advance(priorities)
        return priorities

    def at_step(self, step: int) -> int:
        """The validator index chosen at rotation step ``step`` (from 0)."""
        step %= self.total
        chosen = self._chosen.get(step)
        if chosen is None:
            chosen = self._advance(self.priorities_before(step))[0]
            if len(self._chosen) < _MEMO:
                self._chosen[step] = chosen
        return chosen

    def proposer(self, height: int, round_: int) -> int:
        """The validator index that proposes at ``(height, round_)`` (heights from 1)."""
        return self.at_step(max(height - 1, 0) + round_)


@lru_cache(maxsize=32)
def schedule_for(powers: tuple[int, ...]) -> ProposerSchedule:
    """A shared :class:`ProposerSchedule` for ``powers`` (they are pure and memoised)."""
    return ProposerSchedule(powers)
