"""Every error is application/problem+json, including storage faults and the unexpected."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from xinlian.api import create_app
from xinlian.node.config import load_config
from xinlian.node.network import create_network
from xinlian.node.runtime import Node


async def test_storage_errors_and_unexpected_ones_are_problem_documents(tmp_path: Path) -> None:
    layout = create_network(tmp_path / "net", nodes=1)
    node = Node(load_config(layout.node_homes[0]))
    app = create_app(node)

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app.router.add_get("/test/broken", broken)
    try:
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/test/broken")
            assert resp.status == 500
            doc = await resp.json(content_type="application/problem+json")
            assert doc["reason"] == "internal" and "RuntimeError" in doc["detail"]
            assert "a bug" not in doc["detail"]  # internals stay in the log
            node.store.close()  # every read from now on fails in the storage layer
            for path in ("/v1/blocks/1", "/v1/status", "/v1/events?type=kv.put"):
                resp = await client.get(path)
                assert resp.status == 500, path
                doc = await resp.json(content_type="application/problem+json")
                assert doc["reason"] == "storage_error", (path, doc)
    finally:
        await node.stop()
