"""Time for a validator that missed N blocks to catch up over the network.

A 4-validator network is created; ``--blocks`` blocks of ``--txs`` signed kv writes each
are built into node0's data directory, each with a commit certificate signed by three of
the four validators. Then node0 and node3 (empty) start as real processes on 127.0.0.1.
With two of four up there is no quorum, so no new block is made: node3 learns node0's
height from its status messages and fetches the blocks over mutual TLS (64 per request),
checking every certificate, every transaction signature and the re-executed roots before
each synced commit. The clock runs from node3's start until its API reports height N.

    python bench/bench_catchup.py --blocks 10000 --txs 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from xinlian.codec import encode, encode_args
from xinlian.mempool import decode_envelope
from xinlian.node.chain import Chain, load_genesis
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.storage import open_store
from xinlian.types import Commit, CommitSig, SignedTransaction, Transaction, Vote, VoteType


def status_height(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/status", timeout=2) as r:
            return int(json.loads(r.read())["height"])
    except OSError:
        return -1


def build(root: Path, blocks: int, txs: int) -> tuple[list[Path], list[int]]:
    ports = [(18745 + i, 18845 + i) for i in range(4)]
    layout = create_network(root / "net", nodes=4, ports=ports, time_ms=1_000)
    genesis = load_genesis(layout.genesis.read_bytes())
    keys = [read_key(h / "node.key")[0] for h in layout.node_homes]
    writers = [read_key(layout.key_dir / f"org{i}-writer.key")[0] for i in (1, 2, 3)]
    chain = Chain(open_store(layout.node_homes[0] / "data"), genesis)
    suite = chain.suite
    index = {v.public_key: i for i, v in enumerate(chain.validators.validators)}
    nonces = [0, 0, 0]
    started = time.perf_counter()
    for height in range(1, blocks + 1):
        for n in range(txs):
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
            chain.mempool.add(decode_envelope(suite, genesis.chain_id, raw, 65536))
        prepared = chain.prepare_block(height, 1_000 + height * 100, keys[0].public_key)
        vote = encode(Vote(genesis.chain_id, int(VoteType.PRECOMMIT), height, 0, prepared.hash))
        sigs = sorted(
            (CommitSig(index[k.public_key], suite.sign(k.private_key, vote)) for k in keys[:3]),
            key=lambda s: s.validator_index,
        )
        chain.commit_block(prepared, Commit(height, 0, prepared.hash, sigs))
    chain.store.close()
    print(f"built {blocks} blocks in {time.perf_counter() - started:.1f}s", flush=True)
    return layout.node_homes, [p[0] for p in ports]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--txs", type=int, default=5, help="transactions per block")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="xinlian-bench-catchup-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        homes, ports = build(root, args.blocks, args.txs)
        env = dict(os.environ, PYTHONUNBUFFERED="1")

        def start(i: int) -> subprocess.Popen[bytes]:
            log = open(root / f"node{i}.log", "wb")  # noqa: SIM115 - owned by the child
            cmd = [sys.executable, "-m", "xinlian", "node", "start", "--home", str(homes[i])]
            proc = subprocess.Popen(
                [*cmd, "--quiet"], stdout=log, stderr=subprocess.STDOUT, env=env
            )
            log.close()
            procs.append(proc)
            return proc

        start(0)
        while status_height(ports[0]) < args.blocks:
            time.sleep(0.1)
        began = time.perf_counter()
        start(3)
        last_report = began
        while (h := status_height(ports[3])) < args.blocks:
            if procs[-1].poll() is not None:
                raise SystemExit("node3 exited; see " + str(root / "node3.log"))
            if time.perf_counter() - last_report > 10:
                last_report = time.perf_counter()
                print(f"  node3 at {h} after {last_report - began:.0f}s", flush=True)
            time.sleep(0.05)
        took = time.perf_counter() - began
        result = {
            "blocks": args.blocks,
            "txs_per_block": args.txs,
            "catch_up_seconds": round(took, 1),
            "blocks_per_second": round(args.blocks / took, 1),
            "txs_per_second": round(args.blocks * args.txs / took, 1),
        }
        print(json.dumps(result, indent=2))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
