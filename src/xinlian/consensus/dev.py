"""The development block producer: a single validator on a fixed interval."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Tick:
    """Time has reached ``now_ms`` (milliseconds since the epoch); ``pending`` txs wait."""

    now_ms: int
    pending: int


@dataclass(frozen=True, slots=True)
class BlockCommitted:
    """The node committed the block at ``height``."""

    height: int
    time_ms: int


Event = Tick | BlockCommitted


@dataclass(frozen=True, slots=True)
class ProduceBlock:
    """Build, execute, sign and commit the block at ``height`` with header time ``time_ms``."""

    height: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class ScheduleTick:
    """Deliver a ``Tick`` no later than ``at_ms``."""

    at_ms: int


Effect = ProduceBlock | ScheduleTick


@dataclass(frozen=True, slots=True)
class DevProducer:
    """State of the development producer.

    Attributes:
        height: the last committed height.
        last_time_ms: header time of the last block (block times strictly increase).
        interval_ms: the most time between blocks while transactions wait.
        empty_interval_ms: the time between blocks when nothing is pending.
        producing: a ``ProduceBlock`` effect is outstanding.
    """

    height: int
    last_time_ms: int
    interval_ms: int = 200
    empty_interval_ms: int = 1000
    producing: bool = False

    def step(self, event: Event) -> tuple[DevProducer, list[Effect]]:
        """Advance on ``event``; returns the new state and the effects to carry out."""
        if isinstance(event, BlockCommitted):
            if event.height != self.height + 1:
                return self, []
            state = replace(self, height=event.height, last_time_ms=event.time_ms, producing=False)
            return state, [ScheduleTick(event.time_ms + self.interval_ms)]
        # Tick
        if self.producing:
            return self, []
        wait = self.interval_ms if event.pending else self.empty_interval_ms
        due = self.last_time_ms + wait
        if event.now_ms < due:
            return self, [ScheduleTick(due)]
        time_ms = max(event.now_ms, self.last_time_ms + 1)
        return replace(self, producing=True), [ProduceBlock(self.height + 1, time_ms)]
