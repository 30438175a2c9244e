"""Network partitions between validators on separate (simulated) hosts.

Each of four validators runs in its own network namespace with its own address
(10.213.N.1..4), joined by a bridge, as if on four machines. Cutting a node's link
partitions the network: a majority side of 3 keeps finalising while the isolated node
cannot, and it catches up once healed; a 2 / 2 split halts the chain (no side has a
quorum) and it resumes when healed. No fork at any point.

Needs root and ``ip`` with network namespaces; skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bftnet import (
    Load,
    check_acked,
    check_agreement,
    height,
    make_network,
    wait_level,
    wait_until,
)
from nodeproc import NodeProcess

pytestmark = pytest.mark.integration

TAG = f"x{os.getpid() % 10000}"  # unique interface names (at most 15 characters)
SUBNET = f"10.213.{os.getpid() % 250}"
BRIDGE = f"{TAG}br"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _host_link(i: int) -> str:
    return f"{TAG}v{i}h"


def _teardown(count: int) -> None:
    for i in range(count):
        subprocess.run(
            ["ip", "netns", "del", f"{TAG}n{i}"], check=False, capture_output=True, timeout=10
        )
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True, timeout=10)


@pytest.fixture
def hosts() -> Iterator[list[tuple[str, str]]]:
    """Four namespaces on one bridge: (namespace, address) each."""
    if shutil.which("ip") is None:
        pytest.skip("the `ip` tool (iproute2) is not installed")
    if os.geteuid() != 0:
        pytest.skip("creating network namespaces needs root")
    out: list[tuple[str, str]] = []
    try:
        _ip("link", "add", BRIDGE, "type", "bridge")
        _ip("addr", "add", f"{SUBNET}.254/24", "dev", BRIDGE)
        _ip("link", "set", BRIDGE, "up")
        for i in range(4):
            ns, address = f"{TAG}n{i}", f"{SUBNET}.{i + 1}"
            _ip("netns", "add", ns)
            _ip("link", "add", _host_link(i), "type", "veth", "peer", "name", f"{TAG}v{i}n")
            _ip("link", "set", f"{TAG}v{i}n", "netns", ns)
            _ip("link", "set", _host_link(i), "master", BRIDGE)
            _ip("link", "set", _host_link(i), "up")
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", f"{TAG}v{i}n")
            _ip("-n", ns, "link", "set", f"{TAG}v{i}n", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            out.append((ns, address))
    except (subprocess.CalledProcessError, OSError) as exc:
        _teardown(4)
        detail = exc.stderr.decode(errors="replace") if hasattr(exc, "stderr") else str(exc)
        pytest.skip(f"this machine cannot create network namespaces and veth links: {detail}")
    try:
        yield out
    finally:
        _teardown(4)


def _cut(*nodes: int) -> None:
    for i in nodes:
        _ip("link", "set", _host_link(i), "down")


def _heal(*nodes: int) -> None:
    for i in nodes:
        _ip("link", "set", _host_link(i), "up")


def test_partitions_halt_the_minority_and_heal(
    tmp_path: Path, hosts: list[tuple[str, str]]
) -> None:
    layout = make_network(tmp_path / "net", hosts=[address for _, address in hosts])
    nodes = [
        NodeProcess(home, port, host=address, prefix=("ip", "netns", "exec", ns))
        for home, port, (ns, address) in zip(
            layout.node_homes, layout.api_ports, hosts, strict=True
        )
    ]
    for node in nodes:
        node.start()
    load = Load(nodes[:3], layout.key_dir / "org2-writer.key", "xinlian-dev")
    load.start()
    a, b, _, d = nodes
    try:
        wait_until(
            "the network finalises blocks", lambda: min(map(height, nodes)) >= 3, nodes=nodes
        )

        # d alone on its side: the 3 others (> 2/3) keep finalising, d cannot.
        _cut(3)
        start = height(a)
        wait_until(
            "the majority side keeps finalising", lambda: height(a) >= start + 4, nodes=nodes
        )
        _heal(3)
        wait_until(
            "the healed node catches up", lambda: height(d) >= height(a) - 1, 90, nodes=nodes
        )
        check_agreement(nodes, layout.genesis)

        # 2 / 2: neither side has more than 2/3 of the power, so nothing is finalised.
        _cut(2, 3)
        time.sleep(2.0)  # an in-flight height may still finish
        halted = height(a)
        time.sleep(6.0)
        assert height(a) == halted and height(b) == halted, "finalised without a quorum"
        _heal(2, 3)
        wait_until(
            "the chain resumes after healing", lambda: height(a) >= halted + 3, 90, nodes=nodes
        )
        wait_until(
            "every node follows", lambda: min(map(height, nodes)) >= halted + 3, 90, nodes=nodes
        )
        load.halt.set()
        load.join(timeout=30)
        wait_level(nodes)  # the load's last blocks may not have reached d yet
        check_agreement(nodes, layout.genesis)
        assert load.acked, "the load never saw a commit; the test proved nothing"
        check_acked(d, layout.genesis, load.acked)
    finally:
        load.halt.set()
        for node in nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.stop()
