"""A node that missed blocks catches up from another's ledger, verifying everything."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from xinlian.codec import encode, encode_args
from xinlian.mempool import decode_envelope
from xinlian.node.chain import Chain, load_genesis
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.storage import MemoryStore
from xinlian.sync import LedgerSource, SyncError, catch_up
from xinlian.types import Block, Commit, SignedTransaction, Transaction

BLOCKS = 12


@pytest.fixture
def chains(tmp_path: Path) -> tuple[Chain, Chain]:
    layout = create_network(tmp_path / "net", nodes=1, time_ms=1_000)
    genesis = load_genesis(layout.genesis.read_bytes())
    node_key = read_key(layout.node_homes[0] / "node.key")[0].private_key
    writer = read_key(layout.key_dir / "org2-writer.key")[0]
    ahead, behind = Chain(MemoryStore(), genesis), Chain(MemoryStore(), genesis)
    nonce = 0
    for height in range(1, BLOCKS + 1):
        for _ in range(3):
            body = Transaction(
                genesis.chain_id,
                writer.public_key,
                nonce,
                "kv",
                "put",
                encode_args({"key": f"k{nonce}", "value": str(height)}),
                100_000,
                10**6,
            )
            raw = encode(
                SignedTransaction(body, ahead.suite.sign(writer.private_key, encode(body)))
            )
            ahead.mempool.add(decode_envelope(ahead.suite, ahead.chain_id, raw, 65536))
            nonce += 1
        ahead.produce_block(height, 1_000 + height * 10, node_key)
    return ahead, behind


def test_catches_up_to_the_same_state(chains: tuple[Chain, Chain]) -> None:
    ahead, behind = chains
    seen: list[int] = []
    applied = catch_up(behind, LedgerSource(ahead.ledger), ahead.height, progress=seen.append)
    assert applied == BLOCKS and seen == list(range(1, BLOCKS + 1))
    assert behind.height == ahead.height
    for h in range(1, BLOCKS + 1):
        assert behind.ledger.block(h).hash == ahead.ledger.block(h).hash
        assert behind.state_root(h) == ahead.state_root(h)
    assert behind.state.get(b"kv/k35") == str(BLOCKS).encode()
    assert catch_up(behind, LedgerSource(ahead.ledger), ahead.height) == 0  # nothing to do


def test_stops_at_a_missing_block(chains: tuple[Chain, Chain]) -> None:
    ahead, behind = chains
    with pytest.raises(SyncError, match=f"no block at height {BLOCKS + 1}"):
        catch_up(behind, LedgerSource(ahead.ledger), BLOCKS + 5)
    assert behind.height == BLOCKS  # what was verified stays committed


class Lying:
    """Serves the real blocks, except one with a forged part."""

    def __init__(self, real: LedgerSource, bad_height: int, forge: str) -> None:
        self.real, self.bad_height, self.forge = real, bad_height, forge

    def certified_block(self, height: int) -> tuple[Block, Commit] | None:
        found = self.real.certified_block(height)
        assert found is not None
        block, commit = found
        if height != self.bad_height:
            return found
        if self.forge == "state_root":
            header = msgspec.structs.replace(block.header, state_root=b"\x01" * 32)
            return Block(header, block.txs), commit
        if self.forge == "commit":
            return block, Commit(commit.height, commit.round, commit.block_hash, [])
        if self.forge == "txs":
            return Block(block.header, block.txs[:-1]), commit
        return Block(msgspec.structs.replace(block.header, height=height + 1), block.txs), commit


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        ("state_root", "state_root differs"),
        ("commit", "voting power"),
        ("txs", "tx_root differs"),
        ("height", "answered height"),
    ],
)
def test_a_lying_source_is_caught(chains: tuple[Chain, Chain], forge: str, reason: str) -> None:
    ahead, behind = chains
    source = Lying(LedgerSource(ahead.ledger), 5, forge)
    with pytest.raises(SyncError, match=reason):
        catch_up(behind, source, ahead.height)
    assert behind.height == 4
    assert behind.state_root(4) == ahead.state_root(4)
