"""Bounds on the API's connections: slow and idle clients cannot take it down.

* **Connection caps**: at most ``max_connections`` open connections in all and
  ``max_connections_per_client`` from one client address. Over the per-client cap a new
  connection is closed at once. At the total cap the oldest connection that has not yet
  sent a complete request head makes room; if there is none, the new one is closed.
* **Header timeout**: a connection must send its first request line and headers within
  ``header_timeout_s`` (slowloris). Later requests on a kept-alive connection are bounded
  by the idle timeout, which aiohttp applies from the end of each response.
* **Body timeout**: a request body must arrive in full within ``body_timeout_s`` of its
  head (:func:`body_timeout_middleware`; answered ``408`` and the connection closed).
* **Idle timeout**: a kept-alive connection with no request is closed after
  ``idle_timeout_s`` (aiohttp's keep-alive timeout).
* :func:`raise_file_limit` lifts the process's open-file soft limit to the hard limit, so
  the caps, not the operating system, decide when connections are refused.

Each bound that bites is logged, at most once per :data:`LOG_EVERY_S` per kind, with the
number of times it bit since the previous line.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from xinlian.api.problems import Problem

log = logging.getLogger("xinlian.api")

#: Shortest interval between two log lines about the same bound.
LOG_EVERY_S = 10.0
#: File descriptors kept for the database, peers and logs beyond the API's connections.
RESERVED_FDS = 200


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The API's connection bounds (from ``[api]`` in config.toml)."""

    max_connections: int = 800
    max_connections_per_client: int = 64
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    idle_timeout_s: float = 60.0


class _RateLog:
    """Log lines that repeat at most once per ``LOG_EVERY_S`` each, with a count."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def warn(self, kind: str, message: str) -> None:
        self._count[kind] = self._count.get(kind, 0) + 1
        now = time.monotonic()
        if now - self._last.get(kind, -LOG_EVERY_S) >= LOG_EVERY_S:
            n = self._count.pop(kind)
            self._last[kind] = now
            log.warning("%s (%d time%s since the last such line)", message, n, "s"[: n != 1])


class ConnectionGuard:
    """Counts the API's connections and wraps each one's protocol with the bounds."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.by_client: dict[str, int] = {}
        self.open = 0
        #: Connections still waiting for their first complete request head, oldest first.
        self.waiting: OrderedDict[GuardedProtocol, None] = OrderedDict()
        self.events = _RateLog()
        #: How often each bound bit (for tests and metrics).
        self.counts: dict[str, int] = {}

    def wrap(self, factory: Callable[[], Any]) -> Callable[[], GuardedProtocol]:
        """A protocol factory for ``loop.create_server`` around aiohttp's."""
        return lambda: GuardedProtocol(self, factory())

    def _bit(self, kind: str, message: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.events.warn(kind, message)

    def admit(self, conn: GuardedProtocol, client: str) -> bool:
        limits = self.limits
        if self.by_client.get(client, 0) >= limits.max_connections_per_client:
            self._bit(
                "per_client",
                f"API: refused a connection from {client}: it has "
                f"{limits.max_connections_per_client} open (max_connections_per_client)",
            )
            return False
        if self.open >= limits.max_connections:
            if not self.waiting:
                self._bit(
                    "total",
                    f"API: refused a connection from {client}: {self.open} open "
                    "(max_connections), none idle",
                )
                return False
            oldest = next(iter(self.waiting))
            self._bit(
                "evicted",
                f"API: {self.open} connections open (max_connections); closed the oldest "
                f"that never sent a request (from {oldest.client}) to let {client} in",
            )
            self.release(oldest)
            oldest.close()
        self.open += 1
        self.by_client[client] = self.by_client.get(client, 0) + 1
        self.waiting[conn] = None
        conn.counted = True
        return True

    def release(self, conn: GuardedProtocol) -> None:
        """Stop counting ``conn`` (once; it may be released before it is lost)."""
        if not conn.counted:
            return
        conn.counted = False
        self.open -= 1
        left = self.by_client[conn.client] - 1
        if left:
            self.by_client[conn.client] = left
        else:
            del self.by_client[conn.client]
        self.waiting.pop(conn, None)

    def header_timeout(self, conn: GuardedProtocol) -> None:
        self.waiting.pop(conn, None)
        self._bit(
            "header_timeout",
            f"API: closed a connection from {conn.client} that sent no complete request "
            f"head within {self.limits.header_timeout_s:g} s (header_timeout_s)",
        )
        conn.close()


class GuardedProtocol(asyncio.Protocol):
    """aiohttp's request handler behind the connection caps and the header timeout."""

    def __init__(self, guard: ConnectionGuard, inner: Any) -> None:
        self.guard = guard
        self.inner = inner
        self.client = ""
        self.transport: Any = None
        self._admitted = False
        #: Whether the guard counts this connection as open.
        self.counted = False
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""

    def connection_made(self, transport: Any) -> None:
        # Not always an asyncio.Transport subclass (uvloop's are not): duck-typed.
        peer = transport.get_extra_info("peername")
        self.client = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if not self.guard.admit(self, self.client):
            transport.abort()
            return
        self._admitted = True
        self.transport = transport
        self._timer = asyncio.get_running_loop().call_later(
            self.guard.limits.header_timeout_s, self.guard.header_timeout, self
        )
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return
        if self._timer is not None:
            seen = self._tail + data
            if b"\r\n\r\n" in seen:  # the first request head is complete
                self._timer.cancel()
                self._timer = None
                self._tail = b""
                self.guard.waiting.pop(self, None)
            else:
                self._tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        if not self._admitted:
            return None
        result: bool | None = self.inner.eof_received()
        return result

    def pause_writing(self) -> None:
        if self._admitted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.guard.release(self)
        self.inner.connection_lost(exc)

    def close(self) -> None:
        """Drop the connection now (no response: the client never finished a request)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_timeout_middleware(timeout_s: float) -> Any:
    """Middleware that gives each request ``timeout_s`` to deliver its whole body (the
    handler reads it as usual); a slower body is answered 408 and the connection closed."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.can_read_body:
            return await handler(request)
        task = asyncio.current_task()
        assert task is not None
        timed_out = False

        def check() -> None:
            nonlocal timed_out
            if not request.content.is_eof():
                timed_out = True
                task.cancel()

        watchdog = asyncio.get_running_loop().call_later(timeout_s, check)
        try:
            return await handler(request)
        except asyncio.CancelledError:
            if not timed_out:
                raise
            task.uncancel()
            log.warning(
                "API: request body from %s not received within %g s (body_timeout_s)",
                request.remote,
                timeout_s,
            )
            response = Problem(
                408,
                "Request Timeout",
                f"the request body did not arrive within {timeout_s:g} s",
                "body_timeout",
            ).response(request.path)
            response.force_close()
            return response
        finally:
            watchdog.cancel()

    return middleware


def raise_file_limit(want: int) -> int:
    """Raise the open-file soft limit towards the hard limit (to at least ``want`` where
    allowed); returns the soft limit in force. Never lowers it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, want, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            log.info("raised the open-file limit from %d to %d", soft, target)
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit from %d: %s", soft, exc)
    if soft != resource.RLIM_INFINITY and soft < want:
        log.warning(
            "the open-file limit (%d) is below api.max_connections plus %d for the node "
            "(%d): the system may refuse connections before the API's caps do",
            soft,
            RESERVED_FDS,
            want,
        )
    return soft
