"""Four validator processes on 127.0.0.1 under a steady load, through the faults BFT must
survive: a validator killed with SIGKILL (the rest keep finalising) and restarted (it
catches up), two of four down (the chain halts, safely), one back (it resumes), and every
node restarted (nothing acknowledged is lost). After each fault: no fork, every block
certified."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from bftnet import Load, check_acked, check_agreement, height, make_network, wait_until
from nodeproc import NodeProcess

pytestmark = pytest.mark.integration


def test_validators_survive_crashes_halt_without_quorum_and_lose_nothing(tmp_path: Path) -> None:
    layout = make_network(tmp_path / "net")
    genesis = layout.genesis
    nodes = [NodeProcess(h, p) for h, p in zip(layout.node_homes, layout.api_ports, strict=True)]
    for node in nodes:
        node.start()
    load = Load(nodes, layout.key_dir / "org1-writer.key", "xinlian-dev")
    load.start()
    try:
        a, b, c, d = nodes
        wait_until("the network finalises blocks", lambda: height(a) >= 3, nodes=nodes)

        # One of four killed: the other three (3 of 4 > 2/3) keep finalising.
        d.kill()
        before = height(a)
        wait_until("3 of 4 keep finalising", lambda: height(a) >= before + 3, nodes=nodes)
        acked_before = len(load.acked)
        wait_until(
            "the load commits with a validator down",
            lambda: len(load.acked) > acked_before,
            nodes=nodes,
        )

        # Restarted, it catches up with the others and follows them.
        d.start()
        wait_until(
            "the restarted validator catches up",
            lambda: height(d) >= height(a) - 1,
            90,
            nodes=nodes,
        )
        check_agreement(nodes, genesis)

        # Two of four down: 2 of 4 is not a quorum, so nothing more is finalised.
        c.kill()
        d.kill()
        time.sleep(2.0)  # let an in-flight height finish
        halted = height(a)
        time.sleep(6.0)
        assert height(a) == halted and height(b) == halted, "finalised without a quorum"

        # One back: 3 of 4 again, so the chain resumes (after c catches up).
        c.start()
        wait_until(
            "the chain resumes with 3 of 4", lambda: height(a) >= halted + 3, 90, nodes=nodes
        )

        # Everyone restarted: nothing acknowledged is lost, and all agree.
        d.start()
        load.halt.set()
        load.join(timeout=30)
        for node in nodes:
            assert node.stop() == 0, node.log()
        for node in nodes:
            node.start()
        top = max(height(n) for n in nodes)
        wait_until(
            "the network finalises after a full restart",
            lambda: height(a) >= top + 2,
            90,
            nodes=nodes,
        )
        wait_until(
            "every node at the same height",
            lambda: min(map(height, nodes)) >= top + 2,
            90,
            nodes=nodes,
        )
        check_agreement(nodes, genesis)
        assert len(load.acked) > 0, "the load never saw a commit; the test proved nothing"
        check_acked(a, genesis, load.acked)
        check_acked(d, genesis, load.acked)
    finally:
        load.halt.set()
        for node in nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.stop()
