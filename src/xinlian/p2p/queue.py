"""A bounded per-peer send queue."""

from __future__ import annotations

import asyncio
import enum
from collections import deque


class OverflowPolicy(enum.Enum):
    """What happens when a slow peer's send queue is full.

    ``DISCONNECT`` (the default) drops the connection: the loss is visible, and consensus
    and sync recover the peer's state when it reconnects. ``DROP_OLDEST`` discards the
    oldest queued frame and keeps going; suitable for best-effort traffic such as
    transaction gossip.
    """

    DISCONNECT = "disconnect"
    DROP_OLDEST = "drop_oldest"


class SendQueue:
    """Encoded frames waiting for one peer's writer, at most ``limit`` of them."""

    def __init__(self, limit: int, policy: OverflowPolicy) -> None:
        if limit < 1:
            raise ValueError("a send queue holds at least one frame")
        self.limit = limit
        self.policy = policy
        self._frames: deque[bytes] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._frames)

    def put(self, frame: bytes) -> bool:
        """Queue ``frame``; return False if the queue was full.

        When full, ``DROP_OLDEST`` discards the oldest frame and queues this one;
        ``DISCONNECT`` queues nothing and the caller closes the connection.
        """
        full = len(self._frames) >= self.limit
        if full:
            if self.policy is OverflowPolicy.DISCONNECT:
                return False
            self._frames.popleft()
        self._frames.append(frame)
        self._ready.set()
        return not full

    async def take_all(self) -> list[bytes]:
        """Wait until at least one frame is queued, then remove and return all of them."""
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        frames = list(self._frames)
        self._frames.clear()
        return frames
