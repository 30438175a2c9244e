"""Throughput and latency of a BFT network of validators under API load.

Each of ``--nodes`` validators (default 4) runs as its own process (``python -m xinlian
node start``) on 127.0.0.1; this process is the load generator. Each sender's
transactions go to one node (senders are spread over the nodes), which gossips them to
the others. It registers ``--senders`` writer accounts, pre-signs every transaction
(simple ``kv.put`` writes), then submits them open-loop in msgpack batches at
``--rate`` transactions per second for ``--duration`` seconds, while a WebSocket
subscription records when each block is seen. Afterwards it maps every transaction to its
block and reports committed transactions per second over the steady window and the
latency from submission to commit (p50, p95, p99).

    python bench/bench_chain.py --rate 3000 --duration 60            # 4 validators
    python bench/bench_chain.py --nodes 1 --rate 6000 --duration 30  # one validator
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from xinlian.codec import encode, encode_args
from xinlian.crypto import KeyPair, get_suite
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.types import SignedTransaction, Transaction

CHAIN_ID = "xinlian-dev"


def sign_tx(
    suite: Any, kp: KeyPair, nonce: int, target: str, method: str, args: dict[str, Any]
) -> bytes:
    tx = Transaction(
        CHAIN_ID, kp.public_key, nonce, target, method, encode_args(args), 200_000, 10**12
    )
    return encode(SignedTransaction(tx, suite.sign(kp.private_key, encode(tx))))


async def wait_height(session: aiohttp.ClientSession, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            async with session.get(url + "/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("node did not come up")


async def submit(session: aiohttp.ClientSession, url: str, raws: list[bytes]) -> dict[str, Any]:
    async with session.post(
        url + "/v1/transactions/batch",
        data=msgspec.msgpack.encode(raws),
        headers={"Content-Type": "application/msgpack"},
    ) as resp:
        doc: dict[str, Any] = await resp.json()
        if resp.status != 200:
            raise SystemExit(f"batch refused: {doc}")
        return doc


async def wait_tx(session: aiohttp.ClientSession, url: str, tx_hash: str) -> None:
    for _ in range(600):
        async with session.get(url + f"/v1/transactions/{tx_hash}") as resp:
            doc = await resp.json()
            if doc.get("status") == "committed":
                if doc["receipt"]["status"] != 0:
                    raise SystemExit(f"setup tx failed: {doc['receipt']}")
                return
        await asyncio.sleep(0.1)
    raise SystemExit("setup transaction not committed")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    suite = get_suite(args.crypto)
    root = Path(tempfile.mkdtemp(prefix="xinlian-bench-"))
    layout = create_network(
        root / "net",
        suite_name=args.crypto,
        nodes=args.nodes,
        ports=[(args.port + i, args.port + 100 + i) for i in range(args.nodes)],
        block_interval_ms=args.block_ms,
    )
    urls = [f"http://127.0.0.1:{args.port + i}" for i in range(args.nodes)]
    url = urls[0]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    for i, home in enumerate(layout.node_homes):
        cmd = [sys.executable, "-m", "xinlian", "node", "start", "--home", str(home), "--quiet"]
        cmd += ["--log-level", args.log_level]
        if args.profile and i == 0:
            fmt = "raw" if args.profile.suffix == ".txt" else "flamegraph"
            cmd = ["py-spy", "record", "-o", str(args.profile), "-f", fmt, "-r", "50", "--", *cmd]
        log = open(root / f"node{i}.log", "w")  # noqa: SIM115 - closed at the end
        logs.append(log)
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env))
    try:
        async with aiohttp.ClientSession() as session:
            for u in urls:
                await wait_height(session, u, 60)
            # SETUP: each org admin registers writer accounts.
            senders: list[KeyPair] = []
            per_org = max(1, args.senders // 3)
            last = ""
            for org in ("org1", "org2", "org3"):
                admin = read_key(layout.key_dir / f"{org}-admin.key")[0]
                raws = []
                for i in range(per_org):
                    kp = suite.generate()
                    senders.append(kp)
                    raws.append(
                        sign_tx(
                            suite,
                            admin,
                            i,
                            "identity",
                            "register_account",
                            {
                                "public_key": kp.public_key,
                                "name": f"w{org}{i}",
                                "roles": ["writer"],
                            },
                        )
                    )
                doc = await submit(session, url, raws)
                last = doc["results"][-1]["hash"]
            for u in urls:
                await wait_tx(session, u, last)
            # PRE-SIGN the load.
            total = int(args.rate * args.duration)
            t0 = time.perf_counter()
            txs: list[bytes] = []
            hashes: list[str] = []
            for n in range(total):
                kp = senders[n % len(senders)]
                raw = sign_tx(
                    suite,
                    kp,
                    n // len(senders),
                    "kv",
                    "put",
                    {"key": f"bench/{n}", "value": "x" * 32},
                )
                txs.append(raw)
                hashes.append(suite.hash(raw).hex())
            sign_s = time.perf_counter() - t0
            print(f"pre-signed {total} txs in {sign_s:.1f}s", flush=True)
            # LOAD: open loop, a batch every tick; blocks observed over WebSocket.
            seen: dict[int, float] = {}
            stop = asyncio.Event()

            async def watch() -> None:
                async with session.ws_connect(url + "/v1/ws") as ws:
                    async for msg in ws:
                        doc = json.loads(msg.data)
                        seen[doc["height"]] = time.monotonic()
                        if stop.is_set():
                            return

            watcher = asyncio.create_task(watch())
            submitted_at: list[float] = [0.0] * total
            tick = args.tick_ms / 1000
            per_tick = max(1, int(args.rate * tick))
            start = time.monotonic()
            sent = 0
            rejected = 0
            while sent < total:
                due = start + (sent / args.rate)
                now = time.monotonic()
                if due > now:
                    await asyncio.sleep(due - now)
                batch = txs[sent : sent + per_tick]
                now = time.monotonic()
                for i in range(len(batch)):
                    submitted_at[sent + i] = now
                # Sender k's transactions always go to node k mod N (nonce order holds).
                parts: list[list[bytes]] = [[] for _ in urls]
                for i, raw in enumerate(batch):
                    parts[((sent + i) % len(senders)) % len(urls)].append(raw)
                docs = await asyncio.gather(
                    *(submit(session, u, part) for u, part in zip(urls, parts, strict=True) if part)
                )
                rejected += len(batch) - sum(d["accepted"] for d in docs)
                sent += len(batch)
            load_end = time.monotonic()
            # DRAIN: wait until the last transaction commits (bounded).
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                async with session.get(url + f"/v1/transactions/{hashes[-1]}") as resp:
                    if (await resp.json()).get("status") == "committed":
                        break
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)
            stop.set()
            watcher.cancel()
            # Each node's refusals by reason (gossip that lost the race with its block shows
            # up as nonce_too_low or duplicate: its signature was checked for nothing).
            for node_url in urls:
                async with session.get(node_url + "/metrics") as resp:
                    text = await resp.text()
                refused = {
                    line.split('reason="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("xinlian_txs_rejected_total{")
                }
                admitted = sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("xinlian_txs_admitted_total")
                )
                print(f"  {node_url}: admitted {admitted:.0f}, refused {refused}", flush=True)
            # MAP transactions to blocks.
            async with session.get(url + "/v1/status") as resp:
                height = (await resp.json())["height"]
            where: dict[str, int] = {}
            duplicated = 0
            for h in range(1, height + 1):
                async with session.get(url + f"/v1/blocks/{h}") as resp:
                    blk = await resp.json()
                for tx_hash in blk["txs"]:
                    duplicated += tx_hash in where
                    where[tx_hash] = h
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        if args.keep:
            print(f"network and node logs kept in {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
    committed = [i for i, h in enumerate(hashes) if h in where]
    lat = sorted(
        seen[where[hashes[i]]] - submitted_at[i] for i in committed if where[hashes[i]] in seen
    )
    commit_times = sorted(seen[where[hashes[i]]] for i in committed if where[hashes[i]] in seen)
    # Steady window: drop the first and last 10% of commits.
    lo, hi = int(len(commit_times) * 0.1), int(len(commit_times) * 0.9) - 1
    steady = (hi - lo) / (commit_times[hi] - commit_times[lo]) if hi > lo else 0.0
    block_sizes = [sum(1 for v in where.values() if v == h) for h in set(where.values())]

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")

    result = {
        "suite": args.crypto,
        "validators": args.nodes,
        "offered_tps": args.rate,
        "duration_s": args.duration,
        "submitted": total,
        "rejected": rejected,
        "committed": len(committed),
        "lost": total - rejected - len(committed),
        "duplicated": duplicated,
        "load_seconds": round(load_end - start, 2),
        "committed_tps_steady": round(steady, 1),
        "committed_tps_overall": round(len(committed) / (commit_times[-1] - start), 1)
        if commit_times
        else 0,
        "latency_ms_p50": round(pct(0.50), 1),
        "latency_ms_p95": round(pct(0.95), 1),
        "latency_ms_p99": round(pct(0.99), 1),
        "blocks": len(block_sizes),
        "mean_block_txs": round(statistics.mean(block_sizes), 1) if block_sizes else 0,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=4, help="validators (processes)")
    parser.add_argument("--rate", type=float, default=3000, help="offered tx/s")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument("--senders", type=int, default=30, help="writer accounts")
    parser.add_argument("--crypto", default="ed25519", choices=["ed25519", "sm"])
    parser.add_argument("--block-ms", type=int, default=200, help="block interval")
    parser.add_argument("--tick-ms", type=int, default=100, help="submission batch period")
    parser.add_argument("--port", type=int, default=18645)
    parser.add_argument("--log-level", default="warning", help="nodes' log level")
    parser.add_argument("--keep", action="store_true", help="keep the network directory")
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the node with py-spy (.svg flame graph or .txt collapsed stacks)",
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
