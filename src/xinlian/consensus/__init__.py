"""Agreement on blocks, as pure state machines: ``step(state, event) -> (state, effects)``.

Today this holds the development producer: one validator that proposes and commits a
block every interval. The BFT protocol replaces it behind the same event/effect interface
(see docs/adr/0002-consensus-interface.md). Nothing here reads clocks or touches I/O:
the node feeds ``Tick`` events with the time and carries out the effects.
"""

from xinlian.consensus.dev import (
    BlockCommitted,
    DevProducer,
    Effect,
    Event,
    ProduceBlock,
    ScheduleTick,
    Tick,
)

__all__ = [
    "BlockCommitted",
    "DevProducer",
    "Effect",
    "Event",
    "ProduceBlock",
    "ScheduleTick",
    "Tick",
]
