"""Per-peer misbehaviour scores and temporary bans."""

from __future__ import annotations

from collections.abc import Callable


class PeerScores:
    """Adds up misbehaviour per peer key; a peer reaching ``threshold`` is banned.

    A ban lasts ``ban_seconds`` on ``clock`` (injectable; seconds, monotonic) and resets the
    score. Scores do not decay: the threshold is a budget for a connection's lifetime of
    mistakes, refilled by a ban.
    """

    def __init__(self, threshold: int, ban_seconds: float, clock: Callable[[], float]) -> None:
        self.threshold = threshold
        self.ban_seconds = ban_seconds
        self._clock = clock
        self._scores: dict[bytes, int] = {}
        self._banned_until: dict[bytes, float] = {}

    def add(self, key: bytes, weight: int = 1) -> bool:
        """Count ``weight`` against ``key``; return True if this bans it."""
        score = self._scores.get(key, 0) + weight
        if score >= self.threshold:
            self._scores.pop(key, None)
            self.ban(key)
            return True
        self._scores[key] = score
        return False

    def ban(self, key: bytes) -> None:
        """Ban ``key`` for ``ban_seconds`` from now."""
        self._banned_until[key] = self._clock() + self.ban_seconds

    def score(self, key: bytes) -> int:
        """The current score of ``key`` (0 after a ban)."""
        return self._scores.get(key, 0)

    def ban_remaining(self, key: bytes) -> float:
        """Seconds until ``key``'s ban ends; 0.0 if it is not banned."""
        until = self._banned_until.get(key)
        if until is None:
            return 0.0
        remaining = until - self._clock()
        if remaining <= 0:
            del self._banned_until[key]
            return 0.0
        return remaining

    def is_banned(self, key: bytes) -> bool:
        """Whether ``key`` is banned now."""
        return self.ban_remaining(key) > 0
