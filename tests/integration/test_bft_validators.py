"""Changing the validator set of a running network through governance.

Four validators run under load. A fifth node is made (`xinlian node add`), proposed by
one organisation and voted in by the others (`xinlian governance ...`); it catches up
and votes, which the test proves by killing an original validator: with five
validators four are needed, so the chain only keeps going because the new one signs.
Then the dead validator is voted out and the four left keep finalising. Clients that
trust only the genesis file verify blocks across both changes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bftnet import Load, check_agreement, height, make_network, wait_until
from click.testing import CliRunner
from nodeproc import NodeProcess, free_port, http

from xinlian.cli.main import cli
from xinlian.node.keys import read_key
from xinlian.sdk import Client

pytestmark = pytest.mark.integration


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _vote_in(url: str, keys: Path, propose: list[str]) -> None:
    doc = json.loads(
        _cli("governance", *propose, "--key", str(keys / "org1-admin.key"), "--url", url, "--json")
    )
    pid = str(doc["id"])
    assert "open" in _cli(
        "governance", "vote", pid, "--key", str(keys / "org2-admin.key"), "--url", url
    )
    assert "passed" in _cli(
        "governance", "vote", pid, "--key", str(keys / "org3-admin.key"), "--url", url
    )


def _validators(url: str) -> list[str]:
    status, doc = http(url + "/v1/validators")
    assert status == 200
    return [v["name"] for v in doc["validators"]]


def test_a_validator_is_voted_in_and_out_while_the_network_runs(tmp_path: Path) -> None:
    root = tmp_path / "net"
    layout = make_network(root)
    nodes = [NodeProcess(h, p) for h, p in zip(layout.node_homes, layout.api_ports, strict=True)]
    for node in nodes:
        node.start()
    load = Load(nodes[1:], layout.key_dir / "org1-writer.key", "xinlian-dev")
    load.start()
    a, b, c, d = nodes
    try:
        wait_until("the network finalises blocks", lambda: height(b) >= 2, nodes=nodes)

        api_port, p2p_port = free_port(), free_port()
        out = _cli(
            "node", "add", "--dir", str(root), "--port", str(api_port), "--p2p-port", str(p2p_port)
        )
        assert "node4" in out
        assert (root / "node4" / "tsa" / "tsa.pem").exists()  # issued by the network's TSA CA
        e = NodeProcess(root / "node4", api_port)
        _vote_in(b.url, layout.key_dir, ["add-validator", "--node-home", str(e.home)])
        assert _validators(b.url) == ["node0", "node1", "node2", "node3", "node4"]

        # The change is recorded in a header and certified by the old set.
        status, doc = http(b.url + "/v1/validators/changes")
        assert status == 200 and len(doc["changes"]) == 1
        change = doc["changes"][0]
        assert change["header"]["next_validators_hash"] != change["header"]["validators_hash"]
        assert [v["name"] for v in change["validators"]][-1] == "node4"

        e.start()
        wait_until(
            "the new validator catches up", lambda: height(e) >= height(b) - 1, 90, nodes=nodes
        )

        # With 5 validators, 4 must sign: without node0 only the new one makes it 4.
        a.kill()
        start = height(b)
        wait_until(
            "4 of 5 (with the new one) finalise", lambda: height(b) >= start + 3, 90, nodes=nodes
        )
        e_index = 4
        status, blk = http(f"{b.url}/v1/blocks/{height(b)}")
        assert e_index in {s["validator_index"] for s in blk["commit"]["signatures"]}

        # Vote the dead validator out; the 4 left keep going, then lose one more.
        node0_key = read_key(a.home / "node.key")[0].public_key.hex()
        _vote_in(b.url, layout.key_dir, ["remove-validator", "--public-key", node0_key])
        assert _validators(b.url) == ["node1", "node2", "node3", "node4"]
        start = height(b)
        wait_until(
            "the 4 remaining validators finalise", lambda: height(b) >= start + 3, 90, nodes=nodes
        )

        live = [b, c, d, e]
        load.halt.set()
        load.join(timeout=30)
        wait_until(
            "every live node at one height",
            lambda: len({height(n) for n in live}) == 1,
            60,
            nodes=nodes,
        )
        top = check_agreement(live, layout.genesis)
        assert top > start
        # A client that trusts only genesis follows both certified changes.
        with Client(e.url, genesis=layout.genesis) as client:
            assert client.get_block(top, verify=True).verified
            assert client.get_block(1, verify=True).verified
        assert re.search(r"node4", json.dumps(http(e.url + "/v1/validators")[1]))
        assert load.acked, "the load never saw a commit"
    finally:
        load.halt.set()
        for node in [*nodes, e] if "e" in locals() else nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.stop()
