"""/healthz and /readyz tell the truth; a nearly full disk refuses client writes."""

from __future__ import annotations

from pathlib import Path

import msgspec
from aiohttp.test_utils import TestClient, TestServer

from xinlian.api import create_app
from xinlian.node.config import NodeConfig, load_config
from xinlian.node.network import create_network
from xinlian.node.runtime import HEIGHT_MARK_FILE, Node
from xinlian.storage import StorageError

PROBLEM = "application/problem+json"


def _config(tmp_path: Path, **changes: object) -> NodeConfig:
    layout = create_network(tmp_path / "net", nodes=1)
    return msgspec.structs.replace(load_config(layout.node_homes[0]), **changes)


async def test_healthy_and_ready(tmp_path: Path) -> None:
    node = Node(_config(tmp_path))
    try:
        async with TestClient(TestServer(create_app(node))) as client:
            resp = await client.get("/healthz")
            assert resp.status == 200 and (await resp.json())["status"] == "ok"
            resp = await client.get("/readyz")
            assert resp.status == 200 and (await resp.json())["status"] == "ready"
    finally:
        await node.stop()


async def test_a_storage_failure_makes_the_node_unhealthy_and_refuse_writes(
    tmp_path: Path,
) -> None:
    node = Node(_config(tmp_path))
    try:
        node.fail(StorageError("write failed: [Errno 28] No space left on device"))
        async with TestClient(TestServer(create_app(node))) as client:
            resp = await client.get("/healthz")
            doc = await resp.json(content_type=PROBLEM)
            assert resp.status == 503 and doc["reason"] == "storage_failure"
            assert "No space left on device" in doc["detail"]
            resp = await client.get("/readyz")
            assert resp.status == 503
            resp = await client.post("/v1/transactions", json={"tx": "00"})
            doc = await resp.json(content_type=PROBLEM)
            assert resp.status == 503 and doc["reason"] == "storage_unavailable"
            assert "the node has stopped" in doc["detail"]
    finally:
        await node.stop()


async def test_below_the_free_space_floor_writes_get_503_and_reads_go_on(
    tmp_path: Path,
) -> None:
    node = Node(_config(tmp_path, min_free_bytes=1 << 60))
    try:
        async with TestClient(TestServer(create_app(node))) as client:
            for path, body in (
                ("/v1/transactions", {"tx": "00"}),
                ("/v1/transactions/batch", {"txs": ["00"]}),
                ("/v1/trace/documents", {}),
            ):
                resp = await client.post(path, json=body)
                doc = await resp.json(content_type=PROBLEM)
                assert resp.status == 503, path
                assert doc["reason"] == "storage_unavailable"
                assert "disk is nearly full" in doc["detail"]
            resp = await client.post("/v1/query", json={})
            assert resp.status != 503  # a read is answered (here: refused as a bad query)
            assert (await client.get("/healthz")).status == 200
            metrics = await (await client.get("/metrics")).text()
            assert "xinlian_disk_free_bytes " in metrics
            assert "xinlian_disk_free_bytes 0.0" not in metrics
    finally:
        await node.stop()


async def test_a_node_behind_its_own_record_is_not_ready(tmp_path: Path) -> None:
    config = _config(tmp_path)
    (config.home / HEIGHT_MARK_FILE).write_text("40\n")  # it had committed 40 before
    node = Node(config)
    try:
        assert node.own_record_height == 40
        async with TestClient(TestServer(create_app(node))) as client:
            resp = await client.get("/readyz")
            doc = await resp.json(content_type=PROBLEM)
            assert resp.status == 503 and doc["reason"] == "not_ready"
            assert doc["reasons"] == [
                "behind its own record: at height 0, but it had reached height 40 before"
            ]
            assert (await client.get("/healthz")).status == 200  # alive, catching up
    finally:
        await node.stop()
    # The mark never goes down when the node stops behind it.
    assert (config.home / HEIGHT_MARK_FILE).read_text().strip() == "40"


async def test_a_node_lagging_its_peers_is_not_ready(tmp_path: Path) -> None:
    node = Node(_config(tmp_path, max_lag_blocks=5))
    await node.start()
    try:
        assert node.driver is not None
        node.driver._peer_heights[b"\x01" * 32] = node.chain.height + 50
        async with TestClient(TestServer(create_app(node))) as client:
            resp = await client.get("/readyz")
            doc = await resp.json(content_type=PROBLEM)
            assert resp.status == 503
            assert any("blocks behind its best peer (the limit is 5)" in r for r in doc["reasons"])
            metrics = await (await client.get("/metrics")).text()
            assert "xinlian_lag_blocks 0.0" not in metrics
    finally:
        await node.stop()
