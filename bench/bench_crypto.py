"""Crypto and codec micro-benchmarks for the ``ed25519`` and ``sm`` suites.

Run from the repository root::

    python bench/bench_crypto.py            # about 40 s
    python bench/bench_crypto.py --quick    # about 20 s, noisier

Reports, per suite: signatures and verifications per second on one core (200-byte
message), verifications per second with 2 threads (does the library release the GIL?),
hashes per second at 32 B and 1 KiB, authenticated encryption of 1 KiB; and canonical
encode + decode of a ``SignedTransaction`` per second. Each figure is the median of
several timed runs; the OpenSSL CLI's own ``openssl speed sm2`` figure is a useful
reference for the SM2 rows on the same machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import ssl
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from functools import partial

from xinlian.codec import decode, encode, encode_args
from xinlian.crypto import CryptoSuite, get_suite
from xinlian.types.tx import SignedTransaction, Transaction

MESSAGE = os.urandom(200)


def rate(fn: Callable[[], object], seconds: float, repeats: int) -> float:
    """Median calls per second of ``fn`` over ``repeats`` runs of about ``seconds`` each."""
    results = []
    fn()  # warm caches (loaded keys, decoders)
    for _ in range(repeats):
        n = 0
        batch = 1
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(batch):
                fn()
            n += batch
            now = time.perf_counter()
            if now >= deadline:
                break
            batch = min(batch * 2, 1024)
        results.append(n / (now - start))
    return statistics.median(results)


def _thread_loop(
    fn: Callable[[], object], stop: threading.Event, barrier: threading.Barrier, out: list[int]
) -> None:
    barrier.wait()
    n = 0
    while not stop.is_set():
        for _ in range(16):
            fn()
        n += 16
    out.append(n)


def threaded_rate(
    fn: Callable[[], object], threads: int, seconds: float, repeats: int
) -> tuple[float, float]:
    """Median total calls/s of ``fn`` looped by ``threads`` threads, and CPU cores used.

    The cores figure (process CPU time / wall time) shows whether the calls release the GIL
    (close to ``threads``) even when other load on the machine keeps the rate from scaling.
    """
    results, cores = [], []
    for _ in range(repeats):
        counts: list[int] = []
        stop = threading.Event()
        barrier = threading.Barrier(threads + 1)
        pool = [
            threading.Thread(target=_thread_loop, args=(fn, stop, barrier, counts))
            for _ in range(threads)
        ]
        for t in pool:
            t.start()
        barrier.wait()
        start, cpu0 = time.perf_counter(), time.process_time()
        time.sleep(seconds)
        stop.set()
        for t in pool:
            t.join()
        wall = time.perf_counter() - start
        results.append(sum(counts) / wall)
        cores.append((time.process_time() - cpu0) / wall)
    return statistics.median(results), statistics.median(cores)


def sample_transaction(suite: CryptoSuite) -> SignedTransaction:
    """A realistic signed transaction of ``suite`` (key-value write with a 32-byte value)."""
    kp = suite.generate()
    tx = Transaction(
        chain_id="xinlian-bench",
        sender=kp.public_key,
        nonce=123_456,
        target="kv",
        method="put",
        args=encode_args({"key": "sensor/42/temperature", "value": os.urandom(32)}),
        gas_limit=100_000,
        expiry=1_000_000,
    )
    return SignedTransaction(tx=tx, signature=suite.sign(kp.private_key, encode(tx)))


def _round_trip(stx: SignedTransaction) -> SignedTransaction:
    return decode(encode(stx), SignedTransaction)


def openssl_speed_sm2() -> str | None:
    """``openssl speed sm2`` sign/s and verify/s now, as a reference for this machine."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    out = subprocess.run(
        [exe, "speed", "-seconds", "1", "sm2"], capture_output=True, text=True, check=False
    ).stdout
    for line in out.splitlines():
        if "SM2" in line and "bits" in line:
            fields = line.split()
            return f"{float(fields[-2]):,.0f} sign/s, {float(fields[-1]):,.0f} verify/s"
    return None


def fmt(x: float) -> str:
    """A rate with thousands separators and no decimals."""
    return f"{x:,.0f}"


def main() -> None:
    """Run the benchmarks and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (noisier)")
    args = parser.parse_args()
    seconds, repeats = (0.25, 3) if args.quick else (0.5, 5)

    print(
        f"# bench_crypto: Python {platform.python_version()}, {ssl.OPENSSL_VERSION}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    rows: list[tuple[str, str, str]] = []
    for name in ("ed25519", "sm"):
        suite = get_suite(name)
        kp = suite.generate()
        sig = suite.sign(kp.private_key, MESSAGE)
        assert suite.verify(kp.public_key, MESSAGE, sig)
        sym_key = os.urandom(32 if name == "ed25519" else 16)
        kib = os.urandom(1024)
        small = os.urandom(32)

        do_verify = partial(suite.verify, kp.public_key, MESSAGE, sig)
        sign_rate = rate(partial(suite.sign, kp.private_key, MESSAGE), seconds, repeats)
        verify_rate = rate(do_verify, seconds, repeats)
        verify2, cores = threaded_rate(do_verify, 2, seconds * 1.5, repeats)
        hash32 = rate(partial(suite.hash, small), seconds, repeats)
        hash1k = rate(partial(suite.hash, kib), seconds, repeats)
        enc1k = rate(partial(suite.encrypt, sym_key, kib), seconds, repeats)
        algo = "Ed25519 (libsodium)" if name == "ed25519" else "SM2 (system OpenSSL, ctypes)"
        rows += [
            (name, f"sign/s, 200 B, 1 thread [{algo}]", fmt(sign_rate)),
            (name, "verify/s, 200 B, 1 thread", fmt(verify_rate)),
            (
                name,
                "verify/s, 200 B, 2 threads (total)",
                f"{fmt(verify2)} ({verify2 / verify_rate:.2f}x, {cores:.2f} cores busy)",
            ),
            (name, f"hash/s, 32 B [{suite.hash_name}]", fmt(hash32)),
            (name, f"hash/s, 1 KiB [{suite.hash_name}]", fmt(hash1k)),
            (
                name,
                "encrypt/s, 1 KiB [" + ("AES-256-GCM" if name == "ed25519" else "SM4-GCM") + "]",
                fmt(enc1k),
            ),
        ]

    for name in ("ed25519", "sm"):
        stx = sample_transaction(get_suite(name))
        raw = encode(stx)
        assert decode(raw, SignedTransaction) == stx

        codec_rate = rate(partial(_round_trip, stx), seconds, repeats)
        rows.append(
            (
                name,
                f"SignedTransaction encode+decode/s ({len(raw)} B)",
                fmt(codec_rate),
            )
        )

    reference = openssl_speed_sm2()
    if reference:
        rows.append(("sm", "reference: `openssl speed sm2` (same machine, now)", reference))

    width = max(len(r[1]) for r in rows)
    print(f"\n| suite   | {'measure'.ljust(width)} | rate |")
    print(f"|---------|{'-' * (width + 2)}|------|")
    for suite_name, what, value in rows:
        print(f"| {suite_name.ljust(7)} | {what.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
