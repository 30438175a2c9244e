"""Fixtures shared by every test directory: a live single-validator node on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from xinlian.api import serve
from xinlian.node.config import load_config
from xinlian.node.network import NetworkLayout, create_network
from xinlian.node.runtime import Node

START_TIMEOUT_S = 30


@dataclass
class LiveNode:
    """A node and its API running in a background thread with its own event loop."""

    url: str
    layout: NetworkLayout
    node: Node


@contextmanager
def serving(layout: NetworkLayout) -> Iterator[LiveNode]:
    """Run the first node of ``layout`` with its API on a free port of 127.0.0.1, in a
    thread with its own event loop; stop it when the block ends."""
    node = Node(load_config(layout.node_homes[0]))
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []
    holder: list[asyncio.Future[None]] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        task = loop.create_task(
            serve(node, host="127.0.0.1", port=0, ready=lambda p: (port.append(p), ready.set()))
        )
        holder.append(task)
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="live-node", daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT_S):
        raise RuntimeError("node did not start listening in time")
    try:
        yield LiveNode(f"http://127.0.0.1:{port[0]}", layout, node)
    finally:
        loop.call_soon_threadsafe(holder[0].cancel)
        thread.join(timeout=START_TIMEOUT_S)


@pytest.fixture(scope="session")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    """A development network (3 orgs, 1 validator, 50 ms blocks) served on a free port."""
    root = tmp_path_factory.mktemp("net")
    layout = create_network(root / "net", nodes=1, block_interval_ms=50)
    with serving(layout) as live:
        yield live


@pytest.fixture(scope="session")
def live_sm_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    """Like ``live_node``, on an ``sm`` chain (SM2 signatures, SM3 hashes)."""
    root = tmp_path_factory.mktemp("smnet")
    layout = create_network(root / "net", suite_name="sm", nodes=1, block_interval_ms=50)
    with serving(layout) as live:
        yield live


@pytest.fixture(scope="module")
def live_node_with_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveNode]:
    """Like ``live_node``, with the ``[api]`` keys of the test module's ``API_CONFIG``
    (a dict) written into config.toml; one node per module."""
    root = tmp_path_factory.mktemp("apinet")
    layout = create_network(root / "net", nodes=1, block_interval_ms=50)
    home = layout.node_homes[0]
    extra = "".join(f"{k} = {v}\n" for k, v in getattr(request.module, "API_CONFIG", {}).items())
    path = home / "config.toml"
    path.write_text(path.read_text().replace("[api]\n", "[api]\n" + extra, 1))
    with serving(layout) as live:
        yield live
