"""A committed block carries the time this node spent on it (``xinlian_block_commit_seconds``)."""

from __future__ import annotations

from pathlib import Path

from xinlian.node.chain import Chain, CommittedBlock, load_genesis
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.storage import MemoryStore


def test_built_and_validated_blocks_report_their_work_time(tmp_path: Path) -> None:
    layout = create_network(tmp_path / "net", nodes=1, time_ms=1_000)
    genesis = load_genesis(layout.genesis.read_bytes())
    key = read_key(layout.node_homes[0] / "node.key")[0]
    builder, follower = Chain(MemoryStore(), genesis), Chain(MemoryStore(), genesis)
    seen: list[CommittedBlock] = []
    follower.subscribe(seen.append)
    built = builder.prepare_block(1, 5_000, key.public_key)
    assert built.work_s > 0
    committed = builder.produce_block(1, 5_000, key.private_key)
    assert committed.seconds > 0
    validated = follower.validate_block(built.block())
    assert validated.work_s > 0 and validated.hash == committed.hash
    commit = builder.ledger.commit(1)
    follower.commit_block(validated, commit)
    assert len(seen) == 1 and seen[0].seconds >= validated.work_s > 0
