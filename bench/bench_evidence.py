"""Evidence storage: digests anchored per second (final) and receipts verified per second.

Anchoring: the benchmark hashes ``--digests`` records locally (not timed), pre-signs
``evidence.anchor`` transactions of ``--batch`` digests each (consecutive nonces of one
writer), then submits them (msgpack, one transaction per request) and waits until the last
one is committed: a committed block has its commit certificate, so the digests are final.
Reported: digests anchored per second from the first submission to the last commit.

Receipts: it fetches ``--receipts`` receipts of digests spread over the batches, and of a
small batch (100 digests), and verifies them offline (no node) in a loop for
``--verify-seconds``: receipts verified per second. Verifying a digest of a 100,000-digest
batch recomputes the batch's Merkle root over all its digests, so it costs much more than
one of a small batch; both are reported.

Without ``--url`` it creates a one-validator development network in a temporary folder and
runs the node as its own process (``python -m xinlian node start``); with ``--url``,
``--key`` and ``--genesis`` it measures an existing network (for example the 4-validator
local network)::

    python bench/bench_evidence.py                        # own dev node, 500,000 digests
    python bench/bench_evidence.py --digests 1000000
    python bench/bench_evidence.py --url http://127.0.0.1:8545 \\
        --key net/keys/org1-writer.key --genesis net/genesis.json
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from xinlian.codec import encode, encode_args
from xinlian.crypto import KeyPair, address_of, get_suite
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.sdk import Client, load_genesis
from xinlian.sdk.evidence import anchor_gas, fetch_receipt, verify_receipt
from xinlian.types import SignedTransaction, Transaction


def sign_batches(
    suite: Any, chain_id: str, kp: KeyPair, nonce: int, digests: list[bytes], batch: int
) -> list[bytes]:
    raws = []
    for i, start in enumerate(range(0, len(digests), batch)):
        chunk = digests[start : start + batch]
        args: dict[str, Any] = {
            "digests": chunk,
            "category": "other",
            "submitter_ref": f"bench {i}",
            "parent": None,
            "meta": {},
        }
        tx = Transaction(
            chain_id,
            kp.public_key,
            nonce + i,
            "evidence",
            "anchor",
            encode_args(args),
            anchor_gas(len(chunk)),
            10**12,
        )
        raws.append(encode(SignedTransaction(tx, suite.sign(kp.private_key, encode(tx)))))
    return raws


async def wait_up(session: aiohttp.ClientSession, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            async with session.get(url + "/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit(f"no node answers at {url}")


async def tx_status(session: aiohttp.ClientSession, url: str, tx_hash: str) -> dict[str, Any]:
    async with session.get(url + f"/v1/transactions/{tx_hash}") as resp:
        doc: dict[str, Any] = await resp.json()
        return doc


async def anchor_all(
    url: str, raws: list[bytes], hashes: list[str], timeout: float
) -> tuple[float, list[int]]:
    """Submit every transaction, wait for the last; returns seconds and the heights."""
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        for raw in raws:
            async with session.post(
                url + "/v1/transactions/batch",
                data=msgspec.msgpack.encode([raw]),
                headers={"Content-Type": "application/msgpack"},
            ) as resp:
                doc = await resp.json()
                if resp.status != 200 or doc["accepted"] != 1:
                    raise SystemExit(f"batch refused: {doc}")
        delay = 0.02
        deadline = time.monotonic() + timeout
        while True:
            doc = await tx_status(session, url, hashes[-1])
            if doc.get("status") == "committed":
                break
            if time.monotonic() > deadline:
                raise SystemExit("the last batch was not committed in time")
            await asyncio.sleep(delay)
            delay = min(0.1, delay * 1.5)
        elapsed = time.perf_counter() - started
        heights = []
        for tx_hash in hashes:
            doc = await tx_status(session, url, tx_hash)
            if doc.get("status") != "committed" or doc["receipt"]["status"] != 0:
                raise SystemExit(f"batch {tx_hash} failed: {doc.get('receipt')}")
            heights.append(int(doc["height"]))
        return elapsed, heights


def verify_rate(receipts: list[tuple[Any, bytes]], genesis: Any, seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while True:
        for receipt, digest in receipts:
            verify_receipt(receipt, genesis, digest=digest)
            done += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return done / elapsed


def run(args: argparse.Namespace, url: str, key_path: Path, genesis_path: Path) -> None:
    genesis = load_genesis(genesis_path)
    suite = get_suite(genesis.suite)
    kp = read_key(key_path)[0]
    asyncio.run(_wait(url))
    t = time.perf_counter()
    tag = os.urandom(8)
    digests = [suite.hash(tag + i.to_bytes(8, "big")) for i in range(args.digests)]
    hashed = time.perf_counter() - t
    with Client(url, timeout=120) as c:
        nonce = c.account(address_of(suite, kp.public_key)).nonce
    t = time.perf_counter()
    raws = sign_batches(suite, genesis.chain_id, kp, nonce, digests, args.batch)
    signed = time.perf_counter() - t
    hashes = [suite.hash(r).hex() for r in raws]
    elapsed, heights = asyncio.run(anchor_all(url, raws, hashes, 600))
    rate = args.digests / elapsed
    print(f"suite {genesis.suite}, {len(raws)} transactions of up to {args.batch:,} digests")
    print(f"  client: hashed {args.digests:,} records in {hashed:.2f} s, signed in {signed:.2f} s")
    print(
        f"  anchored {args.digests:,} digests (final) in {elapsed:.2f} s: "
        f"{rate:,.0f} digests/s; blocks {heights[0]}..{heights[-1]} "
        f"({len(set(heights))} blocks)"
    )
    # RECEIPTS
    picks = [
        digests[min(len(digests) - 1, i * len(digests) // args.receipts + 7)]
        for i in range(args.receipts)
    ]
    with Client(url, timeout=120) as c:
        t = time.perf_counter()
        big = [(fetch_receipt(c, d), d) for d in picks]
        fetched = time.perf_counter() - t
        small_digests = [suite.hash(tag + b"small" + bytes([i])) for i in range(100)]
        small_raw = sign_batches(suite, genesis.chain_id, kp, nonce + len(raws), small_digests, 100)
        asyncio.run(anchor_all(url, small_raw, [suite.hash(small_raw[0]).hex()], 120))
        small = [(fetch_receipt(c, d), d) for d in small_digests[:20]]
    size = len(big[0][0].dumps())
    print(
        f"  fetched {len(big)} receipts in {fetched:.2f} s "
        f"({fetched / len(big) * 1000:.0f} ms each, {size / 1e6:.1f} MB each)"
    )
    big_rate = verify_rate(big, genesis, args.verify_seconds / 2)
    small_rate = verify_rate(small, genesis, args.verify_seconds / 2)
    print(f"  receipts verified offline: {big_rate:,.1f}/s (digest of a {args.batch:,}-digest")
    print(f"    batch), {small_rate:,.0f}/s (digest of a 100-digest batch), one core")


async def _wait(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        await wait_up(session, url, 60)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", help="An existing node; needs --key and --genesis.")
    p.add_argument("--key", type=Path, help="Key file of a writer account (with --url).")
    p.add_argument("--genesis", type=Path, help="The network's genesis.json (with --url).")
    p.add_argument("--digests", type=int, default=500_000)
    p.add_argument("--batch", type=int, default=100_000, help="Digests per transaction.")
    p.add_argument("--receipts", type=int, default=10)
    p.add_argument("--verify-seconds", type=float, default=4.0)
    p.add_argument("--crypto", default="ed25519", choices=["ed25519", "sm"])
    p.add_argument("--port", type=int, default=18645)
    p.add_argument("--block-ms", type=int, default=200)
    args = p.parse_args()
    if not 0 < args.batch <= 100_000 or args.digests < args.receipts:
        raise SystemExit("--batch is 1-100000 and --digests at least --receipts")
    if args.url:
        if args.key is None or args.genesis is None:
            raise SystemExit("--url needs --key and --genesis")
        run(args, args.url.rstrip("/"), args.key, args.genesis)
        return
    root = Path(tempfile.mkdtemp(prefix="xinlian-bench-evidence-"))
    layout = create_network(
        root / "net", suite_name=args.crypto, base_port=args.port, block_interval_ms=args.block_ms
    )
    cmd = [sys.executable, "-m", "xinlian", "node", "start", "--home", str(layout.node_homes[0])]
    with open(root / "node.log", "w") as log:
        node = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            run(
                args,
                f"http://127.0.0.1:{args.port}",
                layout.key_dir / "org1-writer.key",
                layout.genesis,
            )
        finally:
            node.send_signal(signal.SIGINT)
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                node.kill()


if __name__ == "__main__":
    main()
