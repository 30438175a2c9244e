"""Worst-case contract workloads: CPU microseconds per unit of gas.

The sandbox promises that the CPU time of any contract call is at most a fixed constant
times the gas it is charged (docs/adr/0008-gas-bounds-time.md). This benchmark runs
workloads built to break that promise (hash collisions, quadratic string searches, big
integers, sorting, copies, slicing, membership scans, string building, deep recursion,
nested comprehensions) as transactions through the executor on an in-memory chain, and
reports for each the gas charged, the thread's CPU time and the ratio. The largest ratio
is the constant to state; ``plain-loop`` shows what ordinary code costs per gas.

    python bench/bench_adversarial.py                  # every workload
    python bench/bench_adversarial.py --only sort      # names containing 'sort'
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_contracts import Bench

from xinlian.codec import decode
from xinlian.types import TxStatus

# Each workload: (name, body of run(n), n). The body may use n and must return an int.
M61 = 2**61 - 1
WORKLOADS: list[tuple[str, str, int]] = [
    ("plain-loop", "t = 0\nfor i in range(n):\n    t = t + i * 2\nreturn t", 200_000),
    (
        "int-key-collisions",
        f"d = {{}}\nfor i in range(n):\n    d[i * {M61}] = i\nreturn len(d)",
        20_000,
    ),
    (
        "tuple-key-collisions",
        f"d = {{}}\nfor i in range(n):\n    d[(i * {M61}, 1)] = i\nreturn len(d)",
        20_000,
    ),
    (
        "tuple-look-alike-keys",
        "v = ['\\x00\\x01\\x01\\x00', '\\u0100\\u0001', '\\U00010100']\n"
        "d = {}\nfor i in range(n):\n"
        "    d[(v[i % 3], v[i // 3 % 3], v[i // 9 % 3], v[i // 27 % 3], v[i // 81 % 3],"
        " v[i // 243 % 3], v[i // 729 % 3], v[i // 2187 % 3])] = i\nreturn len(d)",
        6561,
    ),
    (
        "str-bytes-look-alike-keys",
        "d = {}\nfor i in range(n):\n    s = str(i)\n    d[s] = i\n    d[s.encode()] = i\n"
        "return len(d)",
        30_000,
    ),
    (
        "int-probe-in-str-dict",
        f"d = {{str(i): i for i in range(5000)}}\nc = 0\nfor i in range(n):\n"
        f"    if i * {M61} in d:\n        c += 1\nreturn c",
        50_000,
    ),
    ("str-keys-build", "d = {}\nfor i in range(n):\n    d[str(i)] = i\nreturn len(d)", 60_000),
    (
        "long-key-lookups",
        "k = 'a' * 200000\nj = k[:-1] + 'a'\nd = {k: 1}\nt = 0\nfor i in range(n):\n"
        "    t += d[j]\nreturn t",
        2_000,
    ),
    (
        "string-building",
        "s = ''\nfor i in range(n):\n    s = s + 'abcdefgh'\nreturn len(s)",
        30_000,
    ),
    (
        "fstring-building",
        "s = ''\nfor i in range(n):\n    s = f'{s}{i}'\nreturn len(s)",
        20_000,
    ),
    (
        "deep-copies",
        "x = [list(range(100)) for i in range(100)]\nt = 0\nfor i in range(n):\n"
        "    y = [r[:] for r in x]\n    z = [list(r) for r in y]\n    t += len(z)\nreturn t",
        300,
    ),
    (
        "sort-long-prefixes",
        "xs = ['a' * 3000 + str(i) for i in range(2000)]\nxs.reverse()\nt = 0\n"
        "for i in range(n):\n    ys = sorted(xs)\n    t += len(ys)\nreturn t",
        20,
    ),
    (
        "sort-ints",
        "xs = [(i * 7919) % 65521 for i in range(60000)]\nt = 0\nfor i in range(n):\n"
        "    ys = sorted(xs)\n    t += ys[0]\nreturn t",
        10,
    ),
    (
        "bigint-mul-div",
        "a = 3 ** 1290\nb = 7 ** 700\nt = 0\nfor i in range(n):\n"
        "    c = a * a\n    d = c // b\n    e = c % (b + i)\n    t += d & 1\nreturn t",
        5_000,
    ),
    ("bigint-pow", "t = 0\nfor i in range(n):\n    t += (2 + i % 3) ** 2040 & 1\nreturn t", 3_000),
    (
        "bigint-to-text",
        "a = 3 ** 2580\nt = 0\nfor i in range(n):\n    t += len(str(a))\nreturn t",
        3_000,
    ),
    (
        "text-to-bigint",
        "s = '9' * 1230\nt = 0\nfor i in range(n):\n    t += int(s) & 1\nreturn t",
        500,
    ),
    (
        "bigint-divmod",
        "a = 3 ** 2580\nb = 5 ** 800\nt = 0\nfor i in range(n):\n"
        "    q, r = divmod(a, b + i)\n    t += r & 1\nreturn t",
        5_000,
    ),
    (
        "repeated-slicing",
        "s = 'a' * 200000\nt = 0\nfor i in range(n):\n    t += len(s[1:])\nreturn t",
        2_000,
    ),
    (
        "list-membership-long-items",
        "b = 'a' * 100000\nxs = [b[:-1] + 'b'] * 1000\nneedle = b[:-1] + 'c'\nt = 0\n"
        "for i in range(n):\n    if needle in xs:\n        t += 1\nreturn t",
        20,
    ),
    (
        "list-index-count",
        "xs = list(range(60000))\nt = 0\nfor i in range(n):\n"
        "    t += xs.count(-1) + xs.index(59999)\nreturn t",
        200,
    ),
    (
        "list-equality-long-items",
        "b = 'a' * 10000\nxs = [b[:-1] + 'b' for i in range(300)]\n"
        "ys = [b[:-1] + 'b' for i in range(300)]\nt = 0\nfor i in range(n):\n"
        "    if xs == ys:\n        t += 1\nreturn t",
        100,
    ),
    (
        "substring-search",
        "hay = 'a' * 29000\nneedle = 'a' * 98 + 'ba'\nt = 0\nfor i in range(n):\n"
        "    t += hay.find(needle) + hay.count(needle)\n    if needle in hay:\n"
        "        t += 1\nreturn t",
        100,
    ),
    (
        "reverse-search",
        "hay = 'a' * 200000\nneedle = 'ab' + 'a' * 3000\nt = 0\nfor i in range(n):\n"
        "    t += hay.rfind(needle)\nreturn t",
        5,
    ),
    (
        "replace-split",
        "hay = 'a' * 29000\nold = 'a' * 98 + 'ba'\nt = 0\nfor i in range(n):\n"
        "    t += len(hay.replace(old, 'x')) + len(hay.split(old))\nreturn t",
        100,
    ),
    (
        "strip-charset",
        "s = 'a' * 200000\nchars = 'b' * 2000 + 'a'\nt = 0\nfor i in range(n):\n"
        "    t += len(s.strip(chars))\nreturn t",
        5,
    ),
    (
        "front-insert",
        "xs = list(range(60000))\nfor i in range(n):\n    xs.insert(0, i)\n    xs.pop(0)\n"
        "return len(xs)",
        5_000,
    ),
    (
        "slice-assign-front",
        "xs = list(range(60000))\nfor i in range(n):\n    xs[0:0] = [i]\n    del xs[0]\n"
        "return len(xs)",
        5_000,
    ),
    (
        "nested-comprehensions",
        "t = 0\nfor k in range(n):\n"
        "    g = [[[i + j + m for m in range(20)] for j in range(20)] for i in range(20)]\n"
        "    t += len(g)\nreturn t",
        100,
    ),
    (
        "dict-equality",
        "a = {str(i): i for i in range(20000)}\nb = {str(i): i for i in range(20000)}\n"
        "t = 0\nfor i in range(n):\n    if a == b:\n        t += 1\nreturn t",
        50,
    ),
    ("recursion-error", "return dive(n)", 60),
    (
        "bigints-in-list-to-text",
        "xs = [3 ** 2580] * 190\nt = 0\nfor i in range(n):\n    t += len(str(xs))\nreturn t",
        30,
    ),
    (
        "int-in-bytes",
        "b = bytes(200000)\nt = 0\nfor i in range(n):\n    t += int(255 in b)\nreturn t",
        2_000,
    ),
    (
        "dict-merge-long-keys",
        "k = 'a' * 200000\nd = {k: 1}\ne = {k[:-1] + 'a': 2}\nt = 0\nfor i in range(n):\n"
        "    t += len(d | e)\n    d.update(e)\nreturn t",
        2_000,
    ),
    (
        "membership-in-generator",
        "b = 'a' * 50000\nxs = [b[:-1] + 'b'] * 500\nt = 0\nfor i in range(n):\n"
        "    t += int(b in (x for x in xs))\nreturn t",
        20,
    ),
    (
        "max-min-long-items",
        "xs = ['a' * 5000 + str(i) for i in range(500)]\nt = 0\nfor i in range(n):\n"
        "    t += len(max(xs)) + len(min(xs))\nreturn t",
        50,
    ),
    (
        "join-many",
        "parts = [str(i) for i in range(20000)]\nt = 0\nfor i in range(n):\n"
        "    t += len(','.join(parts))\nreturn t",
        50,
    ),
    (
        "sum-lists",
        "xs = [[1] * 50 for i in range(n)]\nreturn len(sum(xs, []))",
        1_000,
    ),
]

HELPERS = """

def dive(n: int) -> int:
    if n == 0:
        return int("not a number")
    return dive(n - 1) + 1
"""


def source() -> str:
    parts = ["from contract import export\n"]
    for name, body, _ in WORKLOADS:
        fn = name.replace("-", "_")
        indented = "\n".join("    " + line for line in body.splitlines())
        parts.append(f"\n@export\ndef {fn}(n: int) -> int:\n{indented}\n")
    parts.append(HELPERS)
    return "".join(parts)


def run(bench: Bench, address: str, name: str, n: int, gas: int) -> tuple[int, float, str]:
    """One workload as a transaction: gas used, CPU seconds, outcome."""
    env = bench.sign(bench.keys[0], address, name.replace("-", "_"), {"n": n}, gas=gas)
    _, cpu, (receipt,) = bench.block([env])
    outcome = "ok" if receipt.status == TxStatus.OK else receipt.error[:60]
    return receipt.gas_used, cpu, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="run workloads whose name contains this")
    parser.add_argument("--gas", type=int, default=50_000_000, help="gas limit per call")
    parser.add_argument("--repeat", type=int, default=3, help="runs per workload (best kept)")
    args = parser.parse_args()

    bench = Bench(1)
    deploy = bench.sign(
        bench.dev,
        "contracts",
        "deploy",
        {"source": source(), "init": {}, "upgrade_policy": "immutable"},
        gas=50_000_000,
    )
    _, _, (receipt,) = bench.block([deploy])
    assert receipt.status == TxStatus.OK, receipt.error
    address = decode(receipt.output, str)

    print(f"{'workload':28} {'gas':>12} {'CPU ms':>9} {'µs/gas':>8}  outcome")
    worst: tuple[float, str] = (0.0, "")
    rows: list[tuple[str, Any]] = []
    for name, _, n in WORKLOADS:
        if args.only not in name:
            continue
        best: tuple[int, float, str] | None = None
        for _ in range(args.repeat):
            result = run(bench, address, name, n, args.gas)
            if best is None or result[1] < best[1]:
                best = result
        assert best is not None
        gas, cpu, outcome = best
        ratio = cpu * 1e6 / gas
        rows.append((name, best))
        print(f"{name:28} {gas:>12,} {cpu * 1e3:>9.1f} {ratio:>8.4f}  {outcome}")
        if ratio > worst[0]:
            worst = (ratio, name)
    print(f"\nworst: {worst[0]:.4f} µs of CPU per gas ({worst[1]})")


if __name__ == "__main__":
    main()
