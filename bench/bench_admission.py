"""Admission cost per transaction: the mempool's checks of a signed ``kv.put``.

Measures, over the same pre-signed transactions (thread CPU time, best of ``--rounds``):

* ``decode_envelope``: canonical decoding and the signature (stateless, in worker threads);
* ``check_admission``: the sender checks against committed state (chain, expiry, gas
  limit, account and organisation);
* ``admit``: those plus the call's static rules (method, role, argument size, decoding
  into the argument record and the app's ``check``), which the mempool runs since
  issue 13;
* executing a block of them with the arguments decoded on admission, and without.

Usage: ``python bench/bench_admission.py [--txs 20000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable
from typing import Any

from xinlian.apps import builtin_apps
from xinlian.codec import encode, encode_args
from xinlian.crypto import address_of, get_suite
from xinlian.execution import Executor, Mode
from xinlian.mempool import decode_envelope
from xinlian.types import SignedTransaction, Transaction, TxEnvelope
from xinlian.types.genesis import ChainParams, Genesis, GenesisAccount, GenesisOrg, GenesisValidator

SUITE = get_suite("ed25519")
CHAIN = "bench-admission"


def keypair(name: str) -> Any:
    return SUITE.keypair_from_private(hashlib.sha256(name.encode()).digest())


def best_us(fn: Callable[[], None], n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.thread_time()
        fn()
        best = min(best, time.thread_time() - start)
    return best / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--txs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    writer = keypair("writer")
    genesis = Genesis(
        CHAIN,
        "ed25519",
        1_700_000_000_000,
        [GenesisOrg("a", "A")],
        [GenesisAccount("writer", writer.public_key.hex(), "a", ["writer"])],
        [GenesisValidator("v", keypair("v").public_key.hex(), 1)],
        ChainParams(),
    )
    executor = Executor(CHAIN, SUITE, genesis.params, builtin_apps())
    state = {k: v for k, v in executor.genesis_changes(genesis).items() if v is not None}
    address = address_of(SUITE, writer.public_key)
    envs = []
    for nonce in range(opts.txs):
        args = encode_args({"key": f"k{nonce}", "value": "v" * 32})
        tx = Transaction(CHAIN, writer.public_key, nonce, "kv", "put", args, 100_000, 10**9)
        raw = encode(SignedTransaction(tx, SUITE.sign(writer.private_key, encode(tx))))
        envs.append(TxEnvelope(decode_envelope(SUITE, CHAIN, raw, 1 << 20).stx, raw,
                               SUITE.hash(raw), address))  # fmt: skip
    n, rounds = len(envs), opts.rounds

    def signatures() -> None:
        for e in envs:
            decode_envelope(SUITE, CHAIN, e.raw, 1 << 20)

    def sender_checks() -> None:
        for e in envs:
            executor.check_admission(state.get, e, 1)

    def full_admission() -> None:
        for e in envs:
            executor.admit(state.get, e, 1)

    admitted = [executor.admit(state.get, e, 1) for e in envs]
    print(f"{n} kv.put transactions, best of {rounds} (thread CPU time per transaction):")
    print(f"  decode_envelope (signature) {best_us(signatures, n, rounds):7.1f} us")
    print(f"  check_admission             {best_us(sender_checks, n, rounds):7.1f} us")
    print(f"  admit (with static rules)   {best_us(full_admission, n, rounds):7.1f} us")
    block = min(n, 2000)
    for label, batch in (("decoding args", envs), ("args from admission", admitted)):

        def run(txs: list[TxEnvelope] = batch[:block]) -> None:
            executor.execute_block(state.get, 1, 1, txs, Mode.BUILD)

        print(f"  execute, {label:<19} {best_us(run, block, rounds):7.1f} us")


if __name__ == "__main__":
    main()
