"""Token transfers per second through the contract runtime on one node, and the cost of
metering.

The example token (``examples/contracts/token.py``) is deployed on an in-memory chain
(the executor over a dict-backed state, as ``tests/unit`` builds it); then blocks of
pre-signed ``transfer`` transactions from ``--senders`` accounts are executed with
``Executor.execute_block`` (admission checks, nonce, contract instantiation, AST-metered
execution, storage reads and writes through the overlay, events, receipts) and their
changes applied. Signature checks happen at admission, outside execution, and are not
part of this figure (see ``bench_chain.py`` for the whole node).

The same blocks then run with the token compiled *without* instrumentation (no gas steps,
no size guards; storage and event gas still charged), which gives the overhead of
metering.

    python bench/bench_contracts.py --blocks 10 --block-size 1000
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import statistics
import time
from pathlib import Path
from typing import Any

from xinlian.apps import builtin_apps
from xinlian.codec import decode, encode, encode_args
from xinlian.contracts import checker
from xinlian.contracts.runtime import CODE_CACHE, Compiled
from xinlian.crypto import address_of, get_suite
from xinlian.execution import Executor, Mode
from xinlian.types import SignedTransaction, Transaction, TxEnvelope, TxStatus
from xinlian.types.genesis import ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator

SUITE = get_suite("ed25519")
CHAIN = "bench-contracts"
TOKEN = Path(__file__).resolve().parents[1] / "examples" / "contracts" / "token.py"


def keypair(name: str) -> Any:
    return SUITE.keypair_from_private(hashlib.sha256(name.encode()).digest())


class Bench:
    def __init__(self, senders: int) -> None:
        self.keys = [keypair(f"s{i}") for i in range(senders)]
        self.dev = keypair("dev")
        accounts = [GenesisAccount("dev", self.dev.public_key.hex(), "a", ["deployer"])]
        accounts += [
            GenesisAccount(f"s{i}", k.public_key.hex(), "a", []) for i, k in enumerate(self.keys)
        ]
        genesis = Genesis(
            CHAIN,
            "ed25519",
            1_700_000_000_000,
            [GenesisOrg("a", "A")],
            accounts,
            [GenesisValidator("v", keypair("v").public_key.hex(), 1)],
            ChainParams(),
        )
        self.executor = Executor(CHAIN, SUITE, genesis.params, builtin_apps())
        self.state: dict[bytes, bytes] = {}
        self.apply(self.executor.genesis_changes(genesis))
        self.height = 0
        self.nonces: dict[bytes, int] = {}

    def apply(self, changes: dict[bytes, bytes | None]) -> None:
        for key, value in changes.items():
            if value is None:
                self.state.pop(key, None)
            else:
                self.state[key] = value

    def sign(
        self, kp: Any, target: str, method: str, args: dict[str, Any], gas: int = 200_000
    ) -> TxEnvelope:
        nonce = self.nonces.get(kp.public_key, 0)
        self.nonces[kp.public_key] = nonce + 1
        tx = Transaction(CHAIN, kp.public_key, nonce, target, method, encode_args(args), gas, 10**9)
        stx = SignedTransaction(tx, SUITE.sign(kp.private_key, encode(tx)))
        raw = encode(stx)
        return TxEnvelope(stx, raw, SUITE.hash(raw), address_of(SUITE, kp.public_key))

    def block(self, txs: list[TxEnvelope]) -> tuple[float, float, list[Any]]:
        """Execute one block; returns wall seconds, CPU seconds and the receipts."""
        self.height += 1
        start, cpu = time.perf_counter(), time.thread_time()
        result = self.executor.execute_block(
            self.state.get,
            self.height,
            1_700_000_000_000 + self.height * 1000,
            txs,
            Mode.VALIDATE,
        )
        self.apply(result.changes)
        return time.perf_counter() - start, time.thread_time() - cpu, result.receipts


def unmetered(source: str) -> Compiled:
    """The token compiled without instrumentation (for the overhead comparison only)."""
    tree = checker.parse(source)
    methods = checker.check(tree)
    tree.body = [s for s in tree.body if not isinstance(s, ast.ImportFrom)]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            node.decorator_list = []
    code = compile(tree, "<contract>", "exec")
    return Compiled(code, methods, "<contract>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--block-size", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=100)
    parser.add_argument("--loop", type=int, default=300, help="iterations of the compute test")
    args = parser.parse_args()

    bench = Bench(args.senders)
    source = TOKEN.read_text()
    deploy = bench.sign(
        bench.dev,
        "contracts",
        "deploy",
        {
            "source": source,
            "init": {"name": "B", "symbol": "B", "total": 10**15},
            "upgrade_policy": "immutable",
        },
        gas=5_000_000,
    )
    _, _, (receipt,) = bench.block([deploy])
    assert receipt.status == TxStatus.OK, receipt.error
    token = decode(receipt.output, str)
    code_hash = SUITE.hash(source.encode())
    # Fund every sender.
    funding = [
        bench.sign(
            bench.dev, token, "transfer", {"to": address_of(SUITE, k.public_key), "amount": 10**9}
        )
        for k in bench.keys
    ]
    _, _, receipts = bench.block(funding)
    assert all(r.status == TxStatus.OK for r in receipts)

    def blocks() -> list[list[TxEnvelope]]:
        out = []
        for b in range(2 * args.blocks):
            txs = []
            for i in range(args.block_size):
                sender = bench.keys[(b * args.block_size + i) % len(bench.keys)]
                to = address_of(SUITE, bench.keys[(i * 7 + 1) % len(bench.keys)].public_key)
                txs.append(bench.sign(sender, token, "transfer", {"to": to, "amount": 1 + i % 5}))
            out.append(txs)
        return out

    print(f"token transfers ({args.senders} senders):")
    compare(bench, source, code_hash, blocks(), args.blocks, args.block_size)

    # A compute-bound method shows the cost of step metering itself.
    deploy = bench.sign(
        bench.dev,
        "contracts",
        "deploy",
        {"source": SPIN, "init": {}, "upgrade_policy": "immutable"},
        gas=5_000_000,
    )
    _, _, (receipt,) = bench.block([deploy])
    spin = decode(receipt.output, str)
    work = []
    for _ in range(2 * args.blocks):
        work.append(
            [
                bench.sign(bench.keys[i % len(bench.keys)], spin, "spin", {"n": args.loop})
                for i in range(args.block_size // 10)
            ]
        )
    print(f"compute: spin(n={args.loop}), a loop of additions and comparisons:")
    compare(bench, SPIN, SUITE.hash(SPIN.encode()), work, args.blocks, args.block_size // 10)


SPIN = """
from contract import export


@export
def spin(n: int) -> int:
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i * 2
        else:
            total -= 1
    return total
"""


def compare(
    bench: Bench,
    source: str,
    code_hash: bytes,
    work: list[list[TxEnvelope]],
    nblocks: int,
    size: int,
) -> None:
    """Run ``work`` alternating metered and unmetered code block by block (so that load
    from other processes affects both alike) and print both rates and the overhead."""
    metered_code = CODE_CACHE.get(code_hash, lambda: source)
    plain_code = unmetered(source)
    times: dict[str, list[float]] = {"metered": [], "unmetered": []}
    cpus: dict[str, list[float]] = {"metered": [], "unmetered": []}
    gas: dict[str, list[float]] = {"metered": [], "unmetered": []}
    for txs_metered, txs_plain in zip(work[0::2], work[1::2], strict=True):
        for mode, txs, code in (
            ("metered", txs_metered, metered_code),
            ("unmetered", txs_plain, plain_code),
        ):
            with CODE_CACHE._lock:
                CODE_CACHE._items[code_hash] = (code, len(source))
            elapsed, cpu, receipts = bench.block(txs)
            assert all(r.status == TxStatus.OK for r in receipts), receipts[0].error
            times[mode].append(elapsed / len(txs))
            cpus[mode].append(cpu / len(txs))
            gas[mode].append(statistics.mean(r.gas_used for r in receipts))
    with CODE_CACHE._lock:
        CODE_CACHE._items[code_hash] = (metered_code, len(source))
    report = {}
    for mode in ("metered", "unmetered"):
        per_tx = statistics.median(times[mode])
        cpu = statistics.median(cpus[mode])
        report[mode] = cpu
        print(
            f"  {mode:>9}: {1 / per_tx:8,.0f} calls/s wall ({per_tx * 1e6:6.1f} µs), "
            f"{1 / cpu:8,.0f} calls/s of CPU ({cpu * 1e6:6.1f} µs); median of {nblocks} "
            f"blocks of {size}; mean gas {statistics.mean(gas[mode]):,.0f}"
        )
    metered, plain = report["metered"], report["unmetered"]
    print(
        f"  metering overhead (CPU): {100 * (metered - plain) / plain:+.0f}% "
        f"({(metered - plain) * 1e6:+.1f} µs per call)"
    )


if __name__ == "__main__":
    main()
