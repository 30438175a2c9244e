"""A read-only observer follows a 4-validator network: the validators let its key in
through ``[p2p] observers``, it catches up and keeps up with certified blocks, accepts
transactions for the validators to commit, and never votes. A node nobody listed is
refused and stays at height 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from bftnet import Load, check_acked, check_agreement, height, make_network, wait_level, wait_until
from nodeproc import NodeProcess, free_port, http

from xinlian.node.config import load_config
from xinlian.node.network import add_node

pytestmark = pytest.mark.integration


def test_an_observer_follows_the_chain_and_a_stranger_is_refused(tmp_path: Path) -> None:
    layout = make_network(tmp_path / "net")
    watcher = add_node(layout.root, api_port=free_port(), p2p_port=free_port(), observer=True)
    stranger = add_node(layout.root, api_port=free_port(), p2p_port=free_port())
    for home in layout.node_homes:
        assert load_config(home).p2p.observers == (watcher.p2p_key,)
    validators = [
        NodeProcess(h, p) for h, p in zip(layout.node_homes, layout.api_ports, strict=True)
    ]
    observer = NodeProcess(watcher.home, watcher.api_port)
    outsider = NodeProcess(stranger.home, stranger.api_port)
    everyone = [*validators, observer, outsider]
    for node in validators:
        node.start()
    load = Load(validators, layout.key_dir / "org1-writer.key", "xinlian-dev")
    load.start()
    try:
        a = validators[0]
        wait_until("the validators finalise blocks", lambda: height(a) >= 4, nodes=everyone)
        # Started late, the observer catches up, then follows.
        observer.start()
        outsider.start()
        wait_until(
            "the observer catches up",
            lambda: height(observer) >= height(a) - 1,
            nodes=everyone,
        )
        mark = height(a)
        wait_until("the observer follows", lambda: height(observer) >= mark + 3, nodes=everyone)
        status, doc = http(observer.url + "/v1/status")
        assert status == 200
        assert doc["consensus"]["voting"] is False and doc["consensus"]["validators"] == 4
        assert len(doc["consensus"]["peers"]) == 4  # connected to every validator
        # Transactions sent to the observer reach the validators and are committed.
        via_observer = Load([observer], layout.key_dir / "org2-writer.key", "xinlian-dev", 5)
        via_observer.start()
        wait_until(
            "a transaction sent through the observer commits",
            lambda: len(via_observer.acked) >= 10,
            nodes=everyone,
        )
        via_observer.halt.set()
        via_observer.join(timeout=30)
        load.halt.set()
        load.join(timeout=30)
        wait_level([*validators, observer])
        check_agreement([*validators, observer], layout.genesis)
        check_acked(a, layout.genesis, via_observer.acked)
        check_acked(observer, layout.genesis, load.acked)
        # The observer's key signs no block.
        status, blk = http(f"{a.url}/v1/blocks/{height(a)}")
        assert status == 200 and all(s["validator_index"] < 4 for s in blk["commit"]["signatures"])
        # A node no validator listed gets nowhere: no peer lets it in.
        assert height(outsider) == 0
        status, doc = http(outsider.url + "/v1/status")
        assert status == 200 and doc["consensus"]["peers"] == []
    finally:
        load.halt.set()
        for node in everyone:
            if node.proc is not None and node.proc.poll() is None:
                node.stop()
