"""``Chain.simulate``: a read-only run on one committed state, safe while blocks commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xinlian.codec import encode, encode_args
from xinlian.mempool import decode_envelope
from xinlian.node.chain import Chain, ChainError, load_genesis
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.storage import MemoryStore
from xinlian.types import SignedTransaction, Transaction, TxStatus


class Net:
    def __init__(self, root: Path) -> None:
        layout = create_network(root / "net", nodes=1, time_ms=1_000)
        self.genesis = load_genesis(layout.genesis.read_bytes())
        self.node_key = read_key(layout.node_homes[0] / "node.key")[0].private_key
        self.writer = read_key(layout.key_dir / "org1-writer.key")[0]
        self.store = MemoryStore()
        self.chain = Chain(self.store, self.genesis)

    def raw(self, nonce: int, key: str = "k", method: str = "put") -> bytes:
        tx = Transaction(
            self.genesis.chain_id,
            self.writer.public_key,
            nonce,
            "kv",
            method,
            encode_args({"key": key, "value": "v"}),
            100_000,
            10**6,
        )
        return encode(
            SignedTransaction(tx, self.chain.suite.sign(self.writer.private_key, encode(tx)))
        )

    def env(self, nonce: int, **kw: Any) -> Any:
        c = self.chain
        return decode_envelope(c.suite, c.chain_id, self.raw(nonce, **kw), 1 << 20)

    def snapshot(self) -> tuple[Any, ...]:
        c = self.chain
        address = self.env(0).sender_address
        stored = list(self.store.iterate(b""))
        return (c.height, c.state_root(), c.next_nonce(address), len(c.mempool), stored)

    def produce(self) -> None:
        c = self.chain
        c.produce_block(c.height + 1, 10_000 + c.height, self.node_key)


@pytest.fixture
def net(tmp_path: Path) -> Net:
    return Net(tmp_path)


def test_simulation_changes_nothing_and_matches_the_block(net: Net) -> None:
    before = net.snapshot()
    env = net.env(0, key="sim")
    sim = net.chain.simulate(env, 5_000)
    assert net.snapshot() == before
    assert sim.height == 0 and sim.refused is None and sim.receipt is not None
    assert sim.receipt.status == TxStatus.OK
    net.chain.mempool.add(env)
    net.produce()
    record = net.chain.ledger.tx(env.hash)
    assert record.receipt == sim.receipt


def test_failures_and_refusals_are_reported(net: Net) -> None:
    # What admission would refuse, simulation refuses with the same code.
    sim = net.chain.simulate(net.env(0, method="nope"), 5_000)
    assert sim.receipt is None and sim.reason == "unknown_target"
    assert sim.refused is not None and "no method 'nope'" in sim.refused
    net.chain.mempool.add(net.env(0))
    net.produce()
    used = net.chain.simulate(net.env(0), 5_000)
    assert used.receipt is None and used.refused is not None
    assert "nonce 0 is already used" in used.refused


def test_an_unsigned_call_simulates_like_the_signed_one(net: Net) -> None:
    chain = net.chain
    signed = net.env(0, key="same")
    unsigned = chain.unsigned_envelope(
        net.writer.public_key,
        nonce=0,
        target="kv",
        method="put",
        args=encode_args({"key": "same", "value": "v"}),
        gas_limit=100_000,
        expiry=10**6,
    )
    assert len(unsigned.raw) == len(signed.raw)
    a, b = chain.simulate(signed, 5_000), chain.simulate(unsigned, 5_000)
    assert a.receipt is not None and b.receipt is not None
    assert a.receipt.gas_used == b.receipt.gas_used
    assert a.receipt.events == b.receipt.events
    with pytest.raises(ChainError, match="must be a public key of the ed25519 suite"):
        chain.unsigned_envelope(
            b"short", nonce=0, target="kv", method="put", args=b"", gas_limit=1, expiry=1
        )


def test_a_block_committed_during_a_simulation_makes_it_run_again_on_the_new_state(
    net: Net,
) -> None:
    chain = net.chain
    chain.mempool.add(net.env(0, key="first"))
    real = chain.executor.simulate
    calls: list[int] = []

    def interleaved(read: Any, env: Any, height: int, time_ms: int, **kw: Any) -> Any:
        calls.append(height)
        if len(calls) == 1:
            net.produce()  # a block commits while this simulation runs
        return real(read, env, height, time_ms, **kw)

    chain.executor.simulate = interleaved  # type: ignore[method-assign]
    sim = chain.simulate(net.env(0, key="second"), 5_000)
    assert calls == [1, 2]
    # The answer is about the state after block 1, where nonce 0 is spent.
    assert sim.height == 1
    assert sim.refused is not None and "nonce 0 is already used" in sim.refused


def test_a_nonce_the_mempool_would_refuse_is_refused(net: Net) -> None:
    gap = net.chain.mempool.max_nonce_gap
    assert net.chain.simulate(net.env(gap), 5_000).receipt is not None
    far = net.chain.simulate(net.env(gap + 1), 5_000)
    assert far.receipt is None and far.refused == f"nonce {gap + 1} is more than {gap} ahead of 0"


def test_an_unsigned_call_takes_its_nonce_from_the_state_it_runs_on(net: Net) -> None:
    chain = net.chain
    chain.mempool.add(net.env(0, key="first"))
    real = chain.executor.simulate
    calls: list[int] = []

    def interleaved(read: Any, env: Any, height: int, time_ms: int, **kw: Any) -> Any:
        calls.append(env.stx.tx.nonce)
        if len(calls) == 1:
            net.produce()  # nonce 0 is used by a block committed meanwhile
        return real(read, env, height, time_ms, **kw)

    def build(nonce_of: Any) -> Any:
        return chain.unsigned_envelope(
            net.writer.public_key,
            nonce=nonce_of(net.env(0).sender_address),
            target="kv",
            method="put",
            args=encode_args({"key": "second", "value": "v"}),
            gas_limit=100_000,
            expiry=10**6,
        )

    chain.executor.simulate = interleaved  # type: ignore[method-assign]
    sim = chain.simulate(build, 5_000)
    assert calls == [0, 1]  # re-run on the new state, with that state's next nonce
    assert sim.height == 1 and sim.refused is None
    assert sim.receipt is not None and sim.receipt.status == TxStatus.OK
