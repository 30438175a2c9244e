"""Benchmark of the authenticated state on RocksDB.

Builds a state of ``--keys`` keys (in blocks of ``--build-batch``) in a temporary RocksDB
directory, then measures:

- the amortised microseconds per key of applying blocks of ``--changes`` changed keys
  (half updates of existing keys, half inserts), including the synced batch write;
- proof generation (mean over ``--proofs`` random keys, present and absent), proof
  verification, and the encoded proof size;
- latest-value reads.

Usage::

    python bench/bench_state.py                      # 1,000,000 keys, blocks of 10,000
    python bench/bench_state.py --keys 100000        # quick run
    python bench/bench_state.py --profile apply      # cProfile one block
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from xinlian.codec import encode
from xinlian.crypto import get_suite
from xinlian.crypto.proofs import verify_state_proof
from xinlian.state import StateTree
from xinlian.storage import WriteBatch
from xinlian.storage.rocks import RocksStore

VALUE_SIZE = 100
#: SHA-256 calls per second on 32 bytes on the reference machine the dependencies were
#: first measured on (see bench/README.md): the yardstick for scaling numbers here.
REFERENCE_SHA256_RATE = 2.85e6


def _sha256_rate() -> float:
    """SHA-256 calls per second on 32 bytes here and now (a machine-speed yardstick)."""
    data = b"x" * 32
    best = 0.0
    for _ in range(5):
        n = 200_000
        t0 = time.perf_counter()
        for _ in range(n):
            hashlib.sha256(data).digest()
        best = max(best, n / (time.perf_counter() - t0))
    return best


def _key(i: int) -> bytes:
    return b"acct/%010d" % i


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a report."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keys", type=int, default=1_000_000, help="keys in the state")
    ap.add_argument("--changes", type=int, default=10_000, help="changed keys per block")
    ap.add_argument("--blocks", type=int, default=5, help="measured blocks")
    ap.add_argument("--proofs", type=int, default=1000, help="proofs to generate")
    ap.add_argument("--build-batch", type=int, default=50_000, help="keys per build block")
    ap.add_argument("--cache-nodes", type=int, default=None, help="node cache size")
    ap.add_argument("--dir", type=Path, default=None, help="database directory (kept)")
    ap.add_argument("--profile", choices=["apply", "prove"], default=None)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    suite = get_suite("ed25519")
    h = suite.hash
    tmp = None
    if args.dir is None:
        tmp = tempfile.mkdtemp(prefix="xinlian-bench-state-")
        path = Path(tmp) / "db"
    else:
        path = args.dir
    store = RocksStore(path)
    kwargs = {} if args.cache_nodes is None else {"cache_nodes": args.cache_nodes}
    tree = StateTree(store, h, **kwargs)
    try:
        print(f"state benchmark: {args.keys:,} keys, blocks of {args.changes:,} changes")
        print(f"database: {path}")
        rate = _sha256_rate()
        print(
            f"machine: sha256(32 B) {rate / 1e6:.2f} M/s (reference machine "
            f"{REFERENCE_SHA256_RATE / 1e6:.2f} M/s), load average {os.getloadavg()[0]:.2f}"
        )
        # ---- build
        t0 = time.perf_counter()
        version = 0
        n = 0
        while n < args.keys:
            m = min(args.build_batch, args.keys - n)
            changes: dict[bytes, bytes | None] = {
                _key(i): rng.randbytes(VALUE_SIZE) for i in range(n, n + m)
            }
            batch = WriteBatch()
            tree.apply(version, changes, batch)
            store.write(batch, sync=True)
            version += 1
            n += m
            print(f"\r  built {n:,} keys", end="", file=sys.stderr, flush=True)
        build_s = time.perf_counter() - t0
        print(file=sys.stderr)
        print(f"build: {build_s:.1f} s ({build_s / args.keys * 1e6:.1f} us/key)")

        # ---- blocks of changes
        next_key = args.keys
        per_key: list[float] = []
        per_key_cpu: list[float] = []
        for blk in range(args.blocks):
            half = args.changes // 2
            upd = rng.sample(range(next_key), half)
            changes = {_key(i): rng.randbytes(VALUE_SIZE) for i in upd}
            for i in range(next_key, next_key + args.changes - half):
                changes[_key(i)] = rng.randbytes(VALUE_SIZE)
            next_key += args.changes - half
            batch = WriteBatch()
            prof = (
                cProfile.Profile() if args.profile == "apply" and blk == args.blocks - 1 else None
            )
            c0 = time.thread_time()
            t0 = time.perf_counter()
            if prof:
                prof.enable()
            root = tree.apply(version, changes, batch)
            t1 = time.perf_counter()
            store.write(batch, sync=True)
            t2 = time.perf_counter()
            c2 = time.thread_time()
            if prof:
                prof.disable()
            version += 1
            us = (t2 - t0) / len(changes) * 1e6
            cpu_us = (c2 - c0) / len(changes) * 1e6
            per_key.append(us)
            per_key_cpu.append(cpu_us)
            print(
                f"block {blk + 1}: {us:.1f} us/key amortised, {cpu_us:.1f} us/key CPU "
                f"(apply {(t1 - t0) * 1e3:.0f} ms, write {(t2 - t1) * 1e3:.0f} ms, "
                f"{len(batch.pending):,} records, "
                f"{sum(len(k) + len(v or b'') for k, v in batch.pending.items()) / 1e6:.1f} MB)"
                f" root {root.hex()[:16]}"
            )
            if prof:
                pstats.Stats(prof).sort_stats("tottime").print_stats(15)
        print(
            f"apply+write: median {statistics.median(per_key):.1f} us/key wall, "
            f"{statistics.median(per_key_cpu):.1f} us/key CPU of this thread "
            f"(target < 20), {len(per_key)} blocks of {args.changes:,}"
        )

        # ---- proofs
        root = tree.root()
        present = [_key(rng.randrange(next_key)) for _ in range(args.proofs // 2)]
        absent = [b"absent/%d" % rng.randrange(10**9) for _ in range(args.proofs - len(present))]
        keys = present + absent
        rng.shuffle(keys)
        prof = cProfile.Profile() if args.profile == "prove" else None
        if prof:
            prof.enable()
        proofs = []
        c0 = time.thread_time()
        t0 = time.perf_counter()
        for k in keys:
            proofs.append(tree.prove(k))
        prove_us = (time.perf_counter() - t0) / len(keys) * 1e6
        prove_cpu = (time.thread_time() - c0) / len(keys) * 1e6
        if prof:
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)
        t0 = time.perf_counter()
        ok = 0
        for k, (value, proof) in zip(keys, proofs, strict=True):
            ok += verify_state_proof(h, root, k, value, proof)
        verify_us = (time.perf_counter() - t0) / len(keys) * 1e6
        if ok != len(keys):
            print(f"ERROR: {len(keys) - ok} proofs failed to verify")
            return 1
        sizes = [len(encode(p)) for _, p in proofs]
        depths = [len(p.steps) for _, p in proofs]
        print(
            f"prove: {prove_us:.1f} us mean wall, {prove_cpu:.1f} us CPU (target < 200) over "
            f"{len(keys)} keys (half absent); verify: {verify_us:.1f} us mean"
        )
        print(
            f"proof size: mean {statistics.mean(sizes):.0f} B, max {max(sizes)} B; "
            f"depth mean {statistics.mean(depths):.2f}, max {max(depths)}"
        )

        # ---- reads
        t0 = time.perf_counter()
        for k in present:
            tree.get(k)
        get_us = (time.perf_counter() - t0) / len(present) * 1e6
        print(f"get (latest): {get_us:.1f} us mean")
    finally:
        store.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
