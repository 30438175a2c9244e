"""Exponential reconnection backoff with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delays for successive failed attempts: uniform in ``[0, min(cap, base * 2**n)]``.

    Full jitter spreads the redials of many nodes that lost a peer at the same moment.
    ``rng`` is injectable so tests are deterministic. Attempt ``n = 0`` still waits a
    jittered ``base`` so a peer that accepts and immediately closes is not hammered.
    """

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts failures)."""
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt, 62))
        return self.rng.uniform(0.0, ceiling)
