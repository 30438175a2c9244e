"""Time for a node that missed N blocks to catch up (in process, no network).

Node A (RocksDB) commits ``--blocks`` blocks of ``--txs`` signed kv writes each; node B,
started empty from the same genesis, then catches up from A's ledger through
``xinlian.sync.catch_up``: every block's commit certificate is checked, every
transaction's signature verified, the block re-executed and its roots compared before a
synced commit. Network transfer is not included (see issue 3 for the p2p path).

    python bench/bench_sync.py --blocks 10000 --txs 5
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from xinlian.codec import encode, encode_args
from xinlian.mempool import decode_envelope
from xinlian.node.chain import Chain, load_genesis
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.storage import open_store
from xinlian.sync import LedgerSource, catch_up
from xinlian.types import SignedTransaction, Transaction


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--txs", type=int, default=5, help="transactions per block")
    parser.add_argument("--crypto", default="ed25519", choices=["ed25519", "sm"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="xinlian-bench-sync-"))
    layout = create_network(root / "net", suite_name=args.crypto, nodes=1, time_ms=1_000)
    genesis = load_genesis(layout.genesis.read_bytes())
    node_key = read_key(layout.node_homes[0] / "node.key")[0].private_key
    writers = [read_key(layout.key_dir / f"org{i}-writer.key")[0] for i in (1, 2, 3)]
    ahead = Chain(open_store(root / "a"), genesis)
    behind = Chain(open_store(root / "b"), genesis)
    suite = ahead.suite
    nonces = [0, 0, 0]
    started = time.perf_counter()
    for height in range(1, args.blocks + 1):
        for n in range(args.txs):
            w = n % 3
            kp = writers[w]
            body = Transaction(
                genesis.chain_id,
                kp.public_key,
                nonces[w],
                "kv",
                "put",
                encode_args({"key": f"k{height}/{n}", "value": "x" * 32}),
                100_000,
                10**9,
            )
            nonces[w] += 1
            raw = encode(SignedTransaction(body, suite.sign(kp.private_key, encode(body))))
            ahead.mempool.add(decode_envelope(suite, genesis.chain_id, raw, 65536))
        ahead.produce_block(height, 1_000 + height, node_key)
    built = time.perf_counter() - started
    print(
        f"node A committed {args.blocks} blocks ({args.txs} txs each) in {built:.1f}s", flush=True
    )
    started = time.perf_counter()
    applied = catch_up(behind, LedgerSource(ahead.ledger), ahead.height)
    took = time.perf_counter() - started
    assert behind.state_root() == ahead.state_root()
    print(
        f"node B caught up {applied} blocks ({applied * args.txs} txs) in {took:.1f}s: "
        f"{applied / took:,.0f} blocks/s, {applied * args.txs / took:,.0f} txs/s; "
        f"state roots equal"
    )


if __name__ == "__main__":
    main()
