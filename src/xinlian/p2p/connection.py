"""One authenticated TLS stream to a peer: a writer task draining a bounded queue.

The transport owns the reading side (it needs the handler, scores and counters); this
class owns the socket's lifetime so that closing is idempotent and bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from xinlian.p2p.queue import SendQueue

log = logging.getLogger("xinlian.p2p")


class Connection:
    """A live connection to ``peer_key``; ``outbound`` is True if this node dialed it."""

    def __init__(
        self,
        peer_key: bytes,
        *,
        outbound: bool,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        queue: SendQueue,
        on_written: Callable[[int, int], None],
    ) -> None:
        self.peer_key = peer_key
        self.outbound = outbound
        self.reader = reader
        self.queue = queue
        self.close_reason = ""
        self._writer = writer
        self._on_written = on_written
        self._closed = asyncio.Event()
        self._write_task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        direction = "out" if self.outbound else "in"
        return f"<Connection {self.peer_key.hex()[:12]} {direction}>"

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed.is_set()

    def start(self) -> None:
        """Start the writer task."""
        self._write_task = asyncio.create_task(self._write_loop(), name=f"p2p-write {self!r}")

    async def _write_loop(self) -> None:
        try:
            while True:
                frames = await self.queue.take_all()
                self._writer.writelines(frames)
                await self._writer.drain()
                self._on_written(len(frames), sum(map(len, frames)))
        except (OSError, ConnectionError) as exc:
            self.close(f"write failed: {exc}")

    async def flush(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until the queue is written out."""
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(timeout):
                while len(self.queue) and not self.closed:
                    await asyncio.sleep(0.005)
                await self._writer.drain()

    def close(self, reason: str) -> None:
        """Stop writing and close the socket (idempotent; completes in the background)."""
        if self.closed:
            return
        self.close_reason = reason
        self._closed.set()
        if self._write_task is not None and self._write_task is not asyncio.current_task():
            self._write_task.cancel()
        self._writer.close()
        log.debug("closing %r: %s", self, reason)

    async def wait_closed(self, timeout: float) -> None:
        """Wait for the socket to close, aborting it after ``timeout`` seconds."""
        await self._closed.wait()
        try:
            async with asyncio.timeout(timeout):
                await self._writer.wait_closed()
        except (TimeoutError, OSError, ConnectionError):
            self._writer.transport.abort()
        if self._write_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._write_task
