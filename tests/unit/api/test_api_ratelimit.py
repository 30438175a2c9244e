"""Per-client rate limiting: the bucket arithmetic, and 429 problems from the API."""

from __future__ import annotations

from pathlib import Path

import msgspec
from aiohttp.test_utils import TestClient, TestServer

from xinlian.api import create_app
from xinlian.api.ratelimit import RateLimiter
from xinlian.node.config import load_config
from xinlian.node.network import create_network
from xinlian.node.runtime import Node


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_bucket_allows_burst_then_refills_at_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=8, burst=3, now=clock)  # 1/8 s is exact in binary
    assert [limiter.allow("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.allow("a")
    assert wait == 0.125  # one token comes back after 1/rate seconds
    assert limiter.allow("b") == 0.0  # clients are independent
    clock.t += 0.125
    assert limiter.allow("a") == 0.0
    assert limiter.allow("a") > 0
    clock.t += 10  # refills up to the burst, not beyond
    assert [limiter.allow("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.allow("a") > 0


def test_client_table_is_bounded() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=1, max_clients=4, now=clock)
    for i in range(50):
        assert limiter.allow(f"client{i}") == 0.0
        assert len(limiter._buckets) <= 4


async def test_api_answers_429_with_retry_after(tmp_path: Path) -> None:
    layout = create_network(tmp_path / "net", nodes=1)
    config = load_config(layout.node_homes[0])
    config = msgspec.structs.replace(
        config, api=msgspec.structs.replace(config.api, rate_limit=1, rate_burst=5)
    )
    node = Node(config)
    try:
        async with TestClient(TestServer(create_app(node))) as client:
            statuses = []
            for _ in range(8):
                resp = await client.get("/healthz")
                statuses.append(resp.status)
                if resp.status == 429:
                    doc = await resp.json(content_type="application/problem+json")
                    assert doc["reason"] == "rate_limited"
                    assert int(resp.headers["Retry-After"]) >= 1
            assert statuses[:5] == [200] * 5
            assert statuses[5:] == [429] * 3
    finally:
        await node.stop()
