"""Read-only queries off the event loop: a small, bounded pool of worker threads.

A query may run contract code for up to its gas limit (``execution.QUERY_GAS``), which
takes CPU time in proportion (docs/adr/0008-gas-bounds-time.md). Run on the event loop,
that time would stall every other request and the node's consensus tasks. Here each query
runs in one of ``workers`` threads; at most ``workers + queued`` are admitted at once and
the rest are refused at once with 503 (``busy``), so a flood of heavy queries costs the
node a bounded share of CPU and never an unbounded queue.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

from xinlian.api.problems import Problem

T = TypeVar("T")

#: Threads running queries: the reference machine has two cores, and the GIL lets one
#: Python thread run at a time, so more threads would only queue inside the interpreter.
QUERY_WORKERS = 2
#: Queries admitted beyond the running ones (waiting for a thread).
QUERY_QUEUE = 30


class QueryPool:
    """Runs blocking query functions in worker threads, refusing when full."""

    def __init__(self, workers: int = QUERY_WORKERS, queued: int = QUERY_QUEUE) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="query")
        self._limit = workers + queued
        self._admitted = 0  # touched only from the event loop's thread

    @property
    def admitted(self) -> int:
        """Queries running or waiting for a thread."""
        return self._admitted

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread; 503 ``busy`` when the pool is full."""
        if self._admitted >= self._limit:
            raise Problem(
                503,
                "Service Unavailable",
                f"{self._limit} queries are already running or waiting; retry shortly",
                "busy",
            )
        self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args))
        finally:
            self._admitted -= 1

    def close(self) -> None:
        """Stop taking work; queued queries are cancelled, running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)


QUERIES = web.AppKey("queries", QueryPool)


def install(app: web.Application) -> None:
    """Give ``app`` a query pool, closed with the app."""
    app[QUERIES] = QueryPool()

    async def _close(app: web.Application) -> None:
        app[QUERIES].close()

    app.on_cleanup.append(_close)


__all__ = ["QUERIES", "QUERY_QUEUE", "QUERY_WORKERS", "QueryPool", "install"]
