"""Transaction simulation: latency of ``POST /v1/transactions/simulate``.

Creates a one-validator development network in a temporary folder, runs its node in this
process (``BackgroundNode``), deploys a contract that loops until its gas runs out, then
times ``--runs`` simulations each of: a signed ``kv.put``, an unsigned ``kv.put`` (by
address), a failing call (a reader writing), and the runaway loop, which the node stops
at its simulation gas cap. Reports the median and the slowest, end to end through the SDK::

    python bench/bench_simulate.py
    python bench/bench_simulate.py --runs 50
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from xinlian.cli.service import BackgroundNode
from xinlian.node.network import create_network
from xinlian.sdk import Client, Signer
from xinlian.sdk.contracts import deploy

SPIN = '''"""Runs until its gas is gone."""

from contract import export


@export
def spin() -> int:
    i = 0
    while True:
        i += 1
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="simulations of each kind")
    opts = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="xinlian-bench-sim-"))
    layout = create_network(root, chain_id="bench-sim", base_port=0, block_interval_ms=50)
    node = BackgroundNode(layout.node_homes[0])
    node.start()
    try:
        keys = root / "keys"
        developer = Signer.from_file(keys / "developer.key")
        writer = Signer.from_file(keys / "org1-writer.key")
        reader = Signer.from_file(keys / "org1-reader.key")
        with Client(node.url, key=developer, timeout=60) as c:
            spin, _ = deploy(c, SPIN, {})
        put = {"key": "bench", "value": "x"}
        cases = [
            ("kv.put, signed", writer, {}),
            ("kv.put, unsigned (address)", None, {"sender": writer.address}),
            ("kv.put by a reader (fails)", reader, {}),
        ]
        print(f"{'case':34} {'outcome':8} {'gas used':>10} {'median':>9} {'max':>9}")
        with Client(node.url, key=writer, timeout=60) as c, Client(node.url, timeout=60) as ro:
            for label, signer, extra in cases:
                client = ro if signer is None else Client(node.url, key=signer, timeout=60)
                times = []
                for _ in range(opts.runs):
                    t0 = time.perf_counter()
                    sim = client.simulate("kv", "put", put, **extra)
                    times.append(time.perf_counter() - t0)
                _report(label, sim.outcome, sim.receipt.gas_used if sim.receipt else 0, times)
            times = []
            for _ in range(max(3, opts.runs // 5)):
                t0 = time.perf_counter()
                sim = c.simulate(spin, "spin", {}, gas_limit=200_000_000)
                times.append(time.perf_counter() - t0)
            assert sim.capped
            used = sim.receipt.gas_used if sim.receipt else 0
            _report("runaway loop (stopped at the cap)", sim.outcome, used, times)
    finally:
        node.stop()


def _report(label: str, outcome: str, gas: int, times: list[float]) -> None:
    median, worst = statistics.median(times) * 1000, max(times) * 1000
    print(f"{label:34} {outcome:8} {gas:>10} {median:>7.1f}ms {worst:>7.1f}ms")


if __name__ == "__main__":
    main()
