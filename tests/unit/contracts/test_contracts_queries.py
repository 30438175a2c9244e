"""The API's query pool: queries run in worker threads, and a full pool refuses at once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from xinlian.api.problems import Problem
from xinlian.api.queries import QueryPool


async def test_a_full_pool_refuses_with_503_and_recovers() -> None:
    pool = QueryPool(workers=1, queued=1)
    gate = threading.Event()
    loop_thread = threading.get_ident()
    ran_in: list[int] = []

    def blocked() -> int:
        ran_in.append(threading.get_ident())
        gate.wait(30)
        return 7

    try:
        first = asyncio.ensure_future(pool.run(blocked))
        second = asyncio.ensure_future(pool.run(blocked))
        await asyncio.sleep(0)  # both admitted: one running, one waiting
        assert pool.admitted == 2
        with pytest.raises(Problem) as refused:
            await pool.run(blocked)
        assert refused.value.status == 503 and refused.value.reason == "busy"
        gate.set()
        assert await first == 7 and await second == 7
        assert pool.admitted == 0
        assert ran_in and loop_thread not in ran_in  # never on the event loop's thread
        assert await pool.run(lambda: 8) == 8
    finally:
        gate.set()
        pool.close()


async def test_errors_raised_by_a_query_reach_the_handler() -> None:
    pool = QueryPool()

    def bad() -> None:
        raise Problem(400, "Bad Request", "no such method", "bad_query")

    try:
        with pytest.raises(Problem, match="no such method"):
            await pool.run(bad)
        assert pool.admitted == 0
    finally:
        pool.close()
