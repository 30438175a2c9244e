"""Two nodes of one chain: a block built by one is validated, executed and committed by the
other with the same roots; every broken rule in a proposed block is refused by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from xinlian.codec import encode, encode_args
from xinlian.execution import InvalidBlock
from xinlian.mempool import decode_envelope
from xinlian.node.chain import Chain, ChainError, decode_wire_block, load_genesis
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.storage import MemoryStore
from xinlian.types import Block, Commit, CommitSig, SignedTransaction, Transaction

Pair = tuple[Chain, Chain, bytes, Callable[[int, str], bytes]]


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    layout = create_network(tmp_path / "net", nodes=1, time_ms=1_000)
    genesis = load_genesis(layout.genesis.read_bytes())
    node_key = read_key(layout.node_homes[0] / "node.key")[0].private_key
    writer = read_key(layout.key_dir / "org1-writer.key")[0]
    a, b = Chain(MemoryStore(), genesis), Chain(MemoryStore(), genesis)

    def tx(nonce: int, value: str) -> bytes:
        body = Transaction(
            genesis.chain_id,
            writer.public_key,
            nonce,
            "kv",
            "put",
            encode_args({"key": f"k{nonce}", "value": value}),
            100_000,
            10**6,
        )
        return encode(SignedTransaction(body, a.suite.sign(writer.private_key, encode(body))))

    return a, b, node_key, tx


def _submit(chain: Chain, raws: list[bytes]) -> None:
    for raw in raws:
        chain.mempool.add(decode_envelope(chain.suite, chain.chain_id, raw, 65536))


def _proposal(pair: Pair, n: int = 5) -> tuple[Block, Commit]:
    a, _, key, tx = pair
    _submit(a, [tx(i, f"v{i}") for i in range(n)])
    committed = a.produce_block(1, 2_000, key)
    return Block(committed.header, a.ledger.block_txs(1)), a.ledger.commit(1)


def test_another_node_validates_and_commits_to_the_same_roots(pair: Pair) -> None:
    a, b, _, _ = pair
    block, commit = _proposal(pair)
    prepared = b.validate_block(block)
    assert prepared.hash == a.ledger.block(1).hash
    b.commit_block(prepared, commit)
    assert b.height == 1
    assert b.state_root(1) == a.state_root(1) == block.header.state_root
    assert b.state.get(b"kv/k3") == b"v3"
    assert b.ledger.receipts(1) == a.ledger.receipts(1)


def test_a_gas_budget_closes_the_block_early_and_others_accept_it(pair: Pair) -> None:
    a, b, _, _ = pair
    a.block_gas_budget = 1  # any transaction exceeds it: blocks of one
    block, commit = _proposal(pair)
    assert len(block.txs) == 1 and len(a.mempool) == 4  # the rest stays pending
    b.commit_block(b.validate_block(block), commit)
    assert b.state_root(1) == a.state_root(1)


def _tampered(block: Block, **fields: object) -> Block:
    return Block(msgspec.structs.replace(block.header, **fields), block.txs)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"height": 2}, "next height is 1"),
        ({"chain_id": "other"}, "chain id 'other'"),
        ({"prev_hash": b"\x01" * 32}, "previous block hash does not match"),
        ({"validators_hash": b"\x02" * 32}, "unknown validator set"),
        ({"proposer": b"\x03" * 32}, "proposer is not a validator"),
        ({"state_root": b"\x04" * 32}, "state_root differs"),
        ({"receipts_root": b"\x05" * 32}, "receipts_root differs"),
        ({"tx_root": b"\x06" * 32}, "tx_root differs"),
    ],
)
def test_broken_proposals_are_refused(pair: Pair, fields: dict[str, object], reason: str) -> None:
    _, b, _, _ = pair
    block, _ = _proposal(pair)
    with pytest.raises(InvalidBlock, match=reason):
        b.validate_block(_tampered(block, **fields))
    assert b.height == 0


def test_a_forged_transaction_is_refused(pair: Pair) -> None:
    _, b, _, _ = pair
    block, _ = _proposal(pair)
    stx = block.txs[0]
    forged = SignedTransaction(msgspec.structs.replace(stx.tx, nonce=0), b"\x00" * 64)
    with pytest.raises(InvalidBlock, match="signature does not verify"):
        b.validate_block(Block(block.header, [forged, *block.txs[1:]]))


def test_a_reordered_block_is_refused(pair: Pair) -> None:
    _, b, _, _ = pair
    block, _ = _proposal(pair)
    with pytest.raises(InvalidBlock, match="nonce"):
        b.validate_block(Block(block.header, list(reversed(block.txs))))


def test_commit_needs_a_valid_certificate(pair: Pair) -> None:
    _, b, _, _ = pair
    block, commit = _proposal(pair)
    prepared = b.validate_block(block)
    bad = Commit(commit.height, commit.round, commit.block_hash, [CommitSig(0, b"\x00" * 64)])
    with pytest.raises(ChainError, match="bad precommit signature"):
        b.commit_block(prepared, bad)
    with pytest.raises(ChainError, match="voting power"):
        b.commit_block(prepared, Commit(commit.height, commit.round, commit.block_hash, []))
    assert b.height == 0
    b.commit_block(prepared, commit)  # the refused attempts left nothing behind
    assert b.state_root(1) == block.header.state_root


def test_a_refused_proposal_leaves_the_state_untouched(pair: Pair) -> None:
    a, b, _, _ = pair
    block, commit = _proposal(pair)
    with pytest.raises(InvalidBlock):
        b.validate_block(_tampered(block, state_root=b"\x07" * 32))
    b.commit_block(b.validate_block(block), commit)
    assert b.state_root(1) == a.state_root(1)


def test_a_block_from_the_wire_validates_without_re_encoding(pair: Pair) -> None:
    a, b, _, _ = pair
    block, commit = _proposal(pair)
    wire = decode_wire_block(encode(block))
    assert wire.txs == [encode(stx) for stx in block.txs]
    prepared = b.validate_block(wire)  # b's mempool is empty: every tx is checked here
    b.commit_block(prepared, commit)
    assert b.state_root(1) == a.state_root(1)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda raw: raw[:-3], "not a block"),
        (lambda raw: b"\x93" + raw[1:], "not a block"),
        (lambda raw: b"\xc1", "not a block"),
    ],
)
def test_wire_garbage_is_not_a_block(
    pair: Pair, mangle: Callable[[bytes], bytes], reason: str
) -> None:
    block, _ = _proposal(pair)
    with pytest.raises(InvalidBlock, match=reason):
        decode_wire_block(mangle(encode(block)))


def test_a_non_canonical_header_or_a_bad_transaction_on_the_wire_is_refused(pair: Pair) -> None:
    b = pair[1]
    block, _ = _proposal(pair)
    raw = encode(block)
    header = encode(block.header)
    # The header with its height (1) as a 2-byte integer: same value, other bytes.
    at = 1 + len(encode(block.header.chain_id))
    assert header[at] == 1
    loose = header[:at] + b"\xcd\x00\x01" + header[at + 1 :]
    assert raw.startswith(b"\x92" + header)
    with pytest.raises(InvalidBlock, match="block header"):
        decode_wire_block(b"\x92" + loose + raw[1 + len(header) :])
    bad_sig = bytearray(encode(block.txs[0]))
    bad_sig[-1] ^= 1
    forged = raw.replace(encode(block.txs[0]), bytes(bad_sig), 1)
    with pytest.raises(InvalidBlock, match="signature"):
        b.validate_block(decode_wire_block(forged))
