"""Per-client request rate limiting (token buckets keyed by remote address)."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """Token buckets: each client earns ``rate`` tokens a second up to ``burst``.

    ``now`` is injectable so tests need no real time. At most ``max_clients`` buckets are
    kept; when full, idle (full) buckets are dropped first, then the whole table.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        max_clients: int = 10_000,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> float:
        """Take a token for ``client``; returns 0 if allowed, else seconds until one is."""
        now = self._now()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate
        if client not in self._buckets and len(self._buckets) >= self.max_clients:
            self._evict(now)
        self._buckets[client] = (tokens - 1, now)
        return 0.0

    def _evict(self, now: float) -> None:
        idle = [
            c
            for c, (t, last) in self._buckets.items()
            if t + (now - last) * self.rate >= self.burst
        ]
        for client in idle:
            del self._buckets[client]
        if len(self._buckets) >= self.max_clients:
            self._buckets.clear()
