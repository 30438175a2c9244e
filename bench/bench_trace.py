"""Traceability benchmark: EPCIS events captured and final per second, and history latency.

By default it creates a one-validator development network in a temporary directory and
starts the node as its own process; ``--url URL --keys DIR`` runs against a running
network instead (DIR holds ``regulator.key`` and ``org1..org3-{admin,writer}.key``, as
written by ``xinlian up`` / ``create_network``), e.g. the 4-validator network.

1. **Setup**: the regulator registers org1 (producer), org2 (inspector, processor) and
   org3 (distributor, retailer); their admins register locations.
2. **Capture**: the sample food chain (:mod:`xinlian.sdk.trace_sample`) for many seeds,
   in documents of at most ``--per-doc`` events, each sent with its pre-signed
   ``trace.capture`` transaction to ``POST /v1/trace/capture`` with ``--inflight``
   requests in flight. Throughput = events / (last capture final - first request sent).
3. **History**: one jar whose upstream lineage holds ``--lineage`` events (tomato lots x
   harvest, inspection, shipment and receipt, plus processing and distribution); the
   median and p95 of ``GET /v1/trace/history`` over ``--queries`` requests, without and
   with the per-transaction proofs.

    python bench/bench_trace.py                      # ~20 s on the development machine
    python bench/bench_trace.py --events 5000 --lineage 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.sdk import Client, Signer
from xinlian.sdk import trace as sdk_trace
from xinlian.sdk.trace_sample import SampleChain, food_chain

ROLE_ORG = {
    "producer": "org1",
    "inspector": "org2",
    "processor": "org2",
    "distributor": "org3",
    "retailer": "org3",
}


def split(doc: dict[str, Any], per_doc: int) -> list[dict[str, Any]]:
    """A document cut into documents of at most ``per_doc`` events."""
    events = doc["epcisBody"]["eventList"]
    return [
        {**doc, "epcisBody": {"eventList": events[i : i + per_doc]}}
        for i in range(0, len(events), per_doc)
    ]


def setup(url: str, keys: Path, chain: SampleChain) -> None:
    roles: dict[str, set[str]] = defaultdict(set)
    prefixes: dict[str, set[str]] = defaultdict(set)
    for p in chain.parties:
        roles[p.org].add(p.role)
        prefixes[p.org].add(p.prefix)
    with Client(url, key=Signer.from_file(keys / "regulator.key"), timeout=60) as c:
        for org in sorted(roles):
            sdk_trace.set_participant(c, org, sorted(roles[org]), sorted(prefixes[org]))
    for p in chain.parties:
        with Client(url, key=Signer.from_file(keys / f"{p.org}-admin.key"), timeout=60) as c:
            for location, name in p.locations:
                sdk_trace.register_location(c, location, name)


class Sender:
    """Pre-signs ``trace.capture`` transactions of one writer with consecutive nonces."""

    def __init__(self, url: str, key_file: Path, chain_id: str, expiry: int) -> None:
        self.signer = Signer(read_key(key_file)[0])
        with Client(url, timeout=60) as c:
            self.nonce = c.account(self.signer.address).nonce
        self.chain_id = chain_id
        self.expiry = expiry

    def sign(self, plan: sdk_trace.CapturePlan) -> str:
        stx = self.signer.build(
            chain_id=self.chain_id,
            nonce=self.nonce,
            target="trace",
            method="capture",
            args=plan.raw_args(),
            gas_limit=sdk_trace.capture_gas(plan),
            expiry=self.expiry,
        )
        self.nonce += 1
        return stx.raw.hex()


def build_load(
    url: str, keys: Path, seeds: range, lots: int, per_doc: int
) -> tuple[list[tuple[dict[str, Any], str]], int, float]:
    """Documents with their signed transactions, the event count and planning seconds."""
    with Client(url, timeout=60) as c:
        st = c.status()
    senders = {
        org: Sender(url, keys / f"{org}-writer.key", st.chain_id, st.height + 100_000)
        for org in ("org1", "org2", "org3")
    }
    load: list[tuple[dict[str, Any], str]] = []
    events = 0
    t0 = time.perf_counter()
    for seed in seeds:
        chain = food_chain(seed, lots=lots, jars_per_case=4, cases=3, orgs=ROLE_ORG)
        for capture in chain.captures:
            for doc in split(capture.document, per_doc):
                plan = sdk_trace.plan_capture(doc)
                load.append((doc, senders[capture.org].sign(plan)))
                events += len(plan.events)
    return load, events, time.perf_counter() - t0


async def capture_all(
    url: str, load: list[tuple[dict[str, Any], str]], inflight: int
) -> tuple[float, list[str]]:
    """Send every capture (in order per sender, ``inflight`` at once); returns the send
    start time and the capture ids."""
    ids: list[str] = [""] * len(load)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(load)):
        queue.put_nowait(i)
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                doc, tx = load[i]
                async with session.post(
                    f"{url}/v1/trace/capture", json={"document": doc, "tx": tx}
                ) as r:
                    body = await r.json()
                    if r.status != 202:
                        raise RuntimeError(f"capture {i} refused: {r.status} {body}")
                    ids[i] = body["capture_id"]

        await asyncio.gather(*(worker() for _ in range(inflight)))
    return started, ids


async def wait_final(url: str, ids: list[str], timeout: float = 300) -> tuple[float, int]:
    """Wait until every capture is committed; returns the time and the failed count."""
    deadline = time.perf_counter() + timeout
    failed = 0
    async with aiohttp.ClientSession() as session:
        for capture_id in reversed(ids):  # the last ones finish last
            while True:
                async with session.get(f"{url}/v1/trace/capture/{capture_id}") as r:
                    body = await r.json()
                if body.get("status") == "committed":
                    break
                if body.get("status") == "failed":
                    failed += 1
                    break
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"capture {capture_id} not final")
                await asyncio.sleep(0.02)
    return time.perf_counter(), failed


def lineage_chain(url: str, keys: Path, lineage: int, per_doc: int) -> str:
    """Capture a chain whose jar has about ``lineage`` upstream events; returns the jar."""
    lots = max(1, -(-(lineage - 10) // 4))
    chain = food_chain(10_000, lots=lots, jars_per_case=2, cases=2, orgs=ROLE_ORG)
    for capture in chain.captures:
        with Client(
            url, key=Signer.from_file(keys / f"{capture.org}-writer.key"), timeout=120
        ) as c:
            for doc in split(capture.document, per_doc):
                for r in sdk_trace.capture(c, doc, timeout=120):
                    assert r.receipt is not None and r.receipt.ok, r
    return chain.consumer_scan


def time_history(url: str, item: str, queries: int, proofs: str) -> tuple[list[float], int]:
    import httpx

    times = []
    n = 0
    params = {"id": item, "direction": "upstream", "proofs": proofs, "max_events": "20000"}
    with httpx.Client(timeout=120) as http:
        for _ in range(queries):
            t0 = time.perf_counter()
            r = http.get(f"{url}/v1/trace/history", params=params)
            times.append(time.perf_counter() - t0)
            r.raise_for_status()
            n = len(r.json()["events"])
    return times, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--url", help="a running node (default: start a dev node)")
    ap.add_argument("--keys", type=Path, help="key directory of that network")
    ap.add_argument("--port", type=int, default=18745)
    ap.add_argument("--block-ms", type=int, default=200)
    ap.add_argument("--events", type=int, default=5000, help="events to capture (about)")
    ap.add_argument("--per-doc", type=int, default=100, help="events per EPCIS document")
    ap.add_argument("--inflight", type=int, default=4)
    ap.add_argument("--lineage", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=20)
    args = ap.parse_args()
    node = None
    if args.url:
        if args.keys is None:
            ap.error("--url needs --keys")
        url, keys = args.url.rstrip("/"), args.keys
    else:
        root = Path(tempfile.mkdtemp(prefix="xinlian-bench-trace-"))
        layout = create_network(
            root / "net", nodes=1, base_port=args.port, block_interval_ms=args.block_ms
        )
        url, keys = f"http://127.0.0.1:{args.port}", layout.key_dir
        log = open(root / "node.log", "w")  # noqa: SIM115 - closed at the end
        cmd = [sys.executable, "-m", "xinlian", "node", "start", "--home",
               str(layout.node_homes[0])]  # fmt: skip
        node = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1")
        )
    try:
        for _ in range(300):
            try:
                with Client(url, timeout=2) as c:
                    c.health()
                break
            except Exception:
                time.sleep(0.1)
        setup(url, keys, food_chain(0, orgs=ROLE_ORG))
        lots = 20
        per_seed = lots * 4 + 14  # events per seed of trace_sample.food_chain (4 x 3 jars)
        seeds = range(1, 1 + max(1, args.events // per_seed))
        load, events, plan_s = build_load(url, keys, seeds, lots, args.per_doc)
        print(f"planned {events} events in {len(load)} documents: {plan_s:.2f} s "
              f"({events / plan_s:,.0f} events/s validated and hashed client-side)")  # fmt: skip
        started, ids = asyncio.run(capture_all(url, load, args.inflight))
        accepted = time.perf_counter()
        final, failed = asyncio.run(wait_final(url, ids))
        print(f"captured: {events / (accepted - started):,.0f} events/s accepted by the node, "
              f"{events / (final - started):,.0f} events/s final "
              f"({events} events, {len(ids)} captures, {failed} failed, "
              f"{final - started:.1f} s)")  # fmt: skip
        jar = lineage_chain(url, keys, args.lineage, args.per_doc)
        for proofs in ("0", "1"):
            times, n = time_history(url, jar, args.queries if proofs == "0" else 5, proofs)
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            median = statistics.median(times) * 1000
            print(f"history upstream of a jar, {n} events in lineage, proofs={proofs}: "
                  f"median {median:.0f} ms, p95 {p95 * 1000:.0f} ms")  # fmt: skip
    finally:
        if node is not None:
            node.terminate()
            node.wait(timeout=30)


if __name__ == "__main__":
    main()
