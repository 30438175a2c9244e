"""A validator whose disk rolls back never signs twice.

Four validator processes run; one of them (``d``) is killed, and its database's
write-ahead log is replaced by a copy taken several heights earlier, as a damaged disk or
a careless restore would leave it. It restarts: either the database refuses to open (the
copy ends inside a record) and it is re-synced with ``--resync``, or it opens rolled
back. Then the same again with its signing record deleted too. Every node logs each
signature it makes (debug level); the test compares all of them: no validator may have
signed two different messages at one (height, round, step), nobody reports an
equivocation, and the network keeps agreeing.
"""

from __future__ import annotations

import re
import shutil
import time
from collections import defaultdict
from pathlib import Path

import pytest
from bftnet import check_agreement, height, make_network, wait_until
from nodeproc import NodeProcess, http

pytestmark = pytest.mark.integration

SIGNED = re.compile(r"signed (proposal|prevote|precommit) at height (\d+) round (\d+): ([0-9a-f]+)")


def _copy_wal(data: Path, into: Path) -> None:
    """The write-ahead log files of a running node, as they are now."""
    into.mkdir()
    for wal in data.glob("*.log"):
        shutil.copy(wal, into / wal.name)


def _roll_back(data: Path, saved: Path) -> None:
    """Replace the node's WAL files by the saved copies."""
    for wal in data.glob("*.log"):
        wal.unlink()
    for wal in saved.glob("*.log"):
        shutil.copy(wal, data / wal.name)


def _restart_damaged(node: NodeProcess) -> None:
    """Start; if the node refuses its damaged database (as it must when the WAL ends
    inside a record), check the message and re-sync it from the peers."""
    try:
        node.start(log_level="debug")
    except RuntimeError:
        text = node.log()
        assert "error: the database at" in text and "--resync" in text, text
        assert "Traceback" not in text, text
        node.start("--resync", log_level="debug")


def _signatures(nodes: list[NodeProcess]) -> dict[tuple[str, int, int, str], set[str]]:
    seen: dict[tuple[str, int, int, str], set[str]] = defaultdict(set)
    for node in nodes:
        for match in SIGNED.finditer(node.log_path.read_text(errors="replace")):
            step, h, r, payload = match.groups()
            seen[(node.home.name, int(h), int(r), step)].add(payload)
    return seen


def _damage_and_recover(nodes: list[NodeProcess], saved: Path, *, lose_record: bool) -> None:
    """Save d's WAL, let it sign 8 more heights, kill it, roll the WAL back (and lose its
    signing record), restart it, and wait until it is back in the network."""
    a, d = nodes[0], nodes[-1]
    data = d.home / "data"
    wait_until("the network finalises", lambda: height(d) >= height(a) - 1 >= 2, nodes=nodes)
    _copy_wal(data, saved)
    start = height(d)
    wait_until("d signs more heights", lambda: height(d) >= start + 8, nodes=nodes)
    d.kill()
    _roll_back(data, saved)
    if lose_record:
        (d.home / "signing.log").unlink()
    _restart_damaged(d)
    text = d.log()
    assert "behind this node's own record" in text, text
    if lose_record:
        assert "signing is fenced" in text, text
    wait_until(
        "the damaged validator catches up",
        lambda: height(d) >= height(a) - 1 and height(d) > start + 10,
        120,
        nodes=nodes,
    )
    top = height(a)
    wait_until("the network goes on", lambda: height(d) >= top + 4, 120, nodes=nodes)


def test_a_rolled_back_validator_never_signs_twice(tmp_path: Path) -> None:
    layout = make_network(tmp_path / "net")
    nodes = [NodeProcess(h, p) for h, p in zip(layout.node_homes, layout.api_ports, strict=True)]
    for node in nodes:
        node.start(log_level="debug")
    d = nodes[-1]
    try:
        _damage_and_recover(nodes, tmp_path / "wal-1", lose_record=False)
        _damage_and_recover(nodes, tmp_path / "wal-2", lose_record=True)
        assert "signing fence lifted" in d.log_path.read_text(errors="replace")
        time.sleep(1.0)
        seen = _signatures(nodes)
        assert len(seen) > 100, "too few signatures logged to prove anything"
        conflicts = {k: v for k, v in seen.items() if len(v) > 1}
        assert conflicts == {}, f"signed twice: {conflicts}"
        for node in nodes:
            status, doc = http(node.url + "/v1/consensus/equivocations")
            assert status == 200 and doc["equivocations"] == [], node.home.name
        check_agreement(nodes, layout.genesis)
    finally:
        for node in nodes:
            if node.proc is not None and node.proc.poll() is None:
                node.stop()
