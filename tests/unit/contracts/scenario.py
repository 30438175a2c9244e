"""A fixed contract workload whose receipts and final state every node must reproduce.

``run(helpers)`` returns statuses, gas and a digest of the final state; ``python
scenario.py`` prints the same as JSON (the determinism test runs it in fresh processes
with different hash seeds).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "contracts"

# The operations whose gas follows their work (docs/adr/0008-gas-bounds-time.md): dict
# keys, merges and views, sorting, searches, big integers, and a refused int key.
WORKOUT = """
from contract import Value, export

log = Value("log", [])


@export
def work(n: int) -> dict:
    d = {f"k{i}": i * i for i in range(n)}
    d.update([("x", 1), ("y", 2)])
    d[b"raw"] = 5
    e = d | {"z": 3, True: 4, None: 6}
    words = sorted([k for k in e.keys() if isinstance(k, str)], reverse=True)
    hay = "ab" * n
    big = 3 ** (n * 10)
    q, r = divmod(big, 7 ** n)
    log.set(words[:3])
    return {
        "words": words[:5],
        "rfind": hay.rfind("ba"),
        "count": hay.count("ab"),
        "in": "k3" in d,
        "probe": 12 in d,
        "r": r % 1000,
        "q": q & 0xFFFF,
        "digits": len(str(big)),
        "total": sum([v for v in d.values()]),
    }


@export
def int_key() -> int:
    d = {1: 2}
    return len(d)
"""


def run(helpers: SimpleNamespace) -> dict[str, Any]:
    """Deploy the examples, run a mix of calls (some failing), report the outcome."""
    accounts = (*helpers.DEFAULT_ACCOUNTS, ("dev_a", "a", ("deployer",)))
    world = helpers.World(helpers.make_genesis(accounts=accounts))
    receipts = []

    def call(who: str, target: str, method: str, args: dict[str, Any], **kw: Any) -> Any:
        receipt = world.call(who, target, method, args, **kw)
        receipts.append(receipt)
        return receipt

    def deploy(name: str, init: dict[str, Any]) -> str:
        source = (EXAMPLES / f"{name}.py").read_text()
        args = {"source": source, "init": init, "upgrade_policy": "immutable"}
        receipt = call("dev_a", "contracts", "deploy", args)
        return receipt.output[2:].decode()  # msgpack str8 header, then the address

    bob, carol = helpers.address("writer_b"), helpers.address("admin_c")
    token = deploy("token", {"name": "T", "symbol": "T", "total": 10_000})
    for i in range(5):
        call("dev_a", token, "transfer", {"to": bob, "amount": 100 + i})
    call("writer_b", token, "transfer", {"to": carol, "amount": 10_000})  # fails
    call("dev_a", token, "approve", {"spender": bob, "amount": 50})
    call("dev_a", token, "transfer", {"to": carol, "amount": 1}, gas_limit=5_000)  # out of gas
    po = deploy("purchase_order", {"supplier": bob, "logistics": carol})
    call("dev_a", po, "create", {"order_id": "A", "item": "x", "quantity": 3, "unit_price": 4})
    call("writer_b", po, "accept", {"order_id": "A"})
    call("admin_c", po, "deliver", {"order_id": "A"})  # wrong state
    args = {"source": WORKOUT, "init": {}, "upgrade_policy": "immutable"}
    workout = call("dev_a", "contracts", "deploy", args).output[2:].decode()
    for n in (3, 40, 200):
        call("dev_a", workout, "work", {"n": n})
    call("dev_a", workout, "int_key", {})  # refused: int dict keys could collide
    digest = hashlib.sha256()
    for key in sorted(world.state):
        digest.update(len(key).to_bytes(4, "big") + key)
        value = world.state[key]
        digest.update(len(value).to_bytes(4, "big") + value)
    return {
        "status": [r.status for r in receipts],
        "gas": [r.gas_used for r in receipts],
        "errors": [r.error for r in receipts],
        "outputs": [r.output.hex() for r in receipts],
        "state": digest.hexdigest(),
    }


def _helpers_from_conftest() -> SimpleNamespace:
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("xinlian_unit_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return SimpleNamespace(
        SUITE=module.SUITE,
        DEFAULT_ACCOUNTS=module.DEFAULT_ACCOUNTS,
        World=module.World,
        address=module.address,
        make_genesis=module.make_genesis,
    )


if __name__ == "__main__":
    print(json.dumps(run(_helpers_from_conftest()), sort_keys=True))
