"""A 4-validator network of real node processes, a steady load, and the checks the fault
tests share: agreement (one block per height on every node), certified blocks and
acknowledged transactions that are still there."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

from nodeproc import NodeProcess, free_port, http

from xinlian.codec import encode, encode_args
from xinlian.crypto import address_of, get_suite
from xinlian.node.keys import read_key
from xinlian.node.network import NetworkLayout, create_network
from xinlian.sdk import Client
from xinlian.types import SignedTransaction, Transaction

SUITE = get_suite("ed25519")


def make_network(root: Path, nodes: int = 4, **kwargs: object) -> NetworkLayout:
    """A network on free 127.0.0.1 ports with short block pauses."""
    ports = [(free_port(), free_port()) for _ in range(nodes)]
    return create_network(root, nodes=nodes, ports=ports, block_interval_ms=50, **kwargs)  # type: ignore[arg-type]


def height(node: NodeProcess) -> int:
    """The node's committed height (-1 if it does not answer)."""
    try:
        status, doc = http(node.url + "/v1/status", timeout=5)
    except OSError:
        return -1
    return int(doc["height"]) if status == 200 else -1


def wait_until(
    what: str,
    cond: Callable[[], bool],
    timeout: float = 90.0,
    nodes: list[NodeProcess] | None = None,
) -> None:
    """Poll ``cond`` until it holds; fail with ``what`` (and the nodes' heights and log
    tails, when given) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    detail = ""
    for node in nodes or []:
        lines = node.log_path.read_text(errors="replace").splitlines()
        # Per-block lines drown the rest: keep the last of them and the last other events.
        keep = [line for line in lines if not _per_block(line)][-12:]
        keep += [line for line in reversed(lines) if _per_block(line)][:1]
        tail = "\n    ".join(keep)
        detail += f"\n  {node.home.name}: height {height(node)}\n    {tail}"
    raise AssertionError(f"timed out after {timeout:g}s waiting for: {what}{detail}")


def _per_block(line: str) -> bool:
    return line.startswith("block ") or "committed height" in line


def wait_level(nodes: list[NodeProcess], timeout: float = 90.0) -> int:
    """Wait until every node holds the blocks the highest one held when called (so a
    transaction acknowledged anywhere can be looked up everywhere); return that height."""
    top = max(height(n) for n in nodes)
    wait_until(
        f"every node reaches height {top}",
        lambda: min(map(height, nodes)) >= top,
        timeout,
        nodes=nodes,
    )
    return top


class Load(threading.Thread):
    """kv.put batches to a random live node; remembers what was acknowledged committed.

    A batch counts as acknowledged once the node reports its last transaction committed
    (nonce order implies the rest). Refusals and dead nodes are expected during faults:
    the load re-reads its nonce from a live node and carries on.
    """

    def __init__(self, nodes: list[NodeProcess], key: Path, chain_id: str, batch: int = 20):
        super().__init__(daemon=True)
        self.nodes = nodes
        self.keypair = read_key(key)[0]
        self.address = address_of(SUITE, self.keypair.public_key)
        self.chain_id = chain_id
        self.batch = batch
        self.acked: dict[str, str] = {}  # tx hash -> kv key
        self.halt = threading.Event()
        self.rng = random.Random(7)
        self.counter = 0
        self.nonce: int | None = None

    def _live(self) -> list[NodeProcess]:
        return [n for n in self.nodes if n.proc is not None and n.proc.poll() is None]

    def run(self) -> None:
        while not self.halt.is_set():
            live = self._live()
            if not live:
                time.sleep(0.2)
                continue
            node = self.rng.choice(live)
            try:
                self._round(node)
            except (OSError, KeyError, ValueError):
                self.nonce = None
                time.sleep(0.2)

    def _round(self, node: NodeProcess) -> None:
        if self.nonce is None:
            status, doc = http(f"{node.url}/v1/accounts/{self.address}", timeout=5)
            if status != 200:
                raise ValueError("no account")
            self.nonce = int(doc["nonce"])
        raws, keys = [], []
        for _ in range(self.batch):
            self.counter += 1
            key = f"bft/{self.counter}"
            tx = Transaction(
                self.chain_id,
                self.keypair.public_key,
                self.nonce,
                "kv",
                "put",
                encode_args({"key": key, "value": f"v{self.counter}"}),
                200_000,
                10**12,
            )
            self.nonce += 1
            raws.append(
                encode(SignedTransaction(tx, SUITE.sign(self.keypair.private_key, encode(tx))))
            )
            keys.append(key)
        status, doc = http(
            node.url + "/v1/transactions/batch", body={"txs": [r.hex() for r in raws]}, timeout=10
        )
        if status != 200 or doc["accepted"] != len(raws):
            self.nonce = None  # refused (e.g. a nonce still pending elsewhere): resync
            time.sleep(0.5)
            return
        last = SUITE.hash(raws[-1]).hex()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not self.halt.is_set():
            status, tx_doc = http(f"{node.url}/v1/transactions/{last}", timeout=5)
            if status == 200 and tx_doc["status"] == "committed":
                for raw, key in zip(raws, keys, strict=True):
                    self.acked[SUITE.hash(raw).hex()] = key
                return
            time.sleep(0.05)
        self.nonce = None  # not committed in time (the chain may be halted)


def check_agreement(nodes: list[NodeProcess], genesis: Path) -> int:
    """Every node holds the same certified block at every height they share; returns it."""
    top = min(height(n) for n in nodes)
    assert top >= 1
    clients = [Client(n.url, genesis=genesis) for n in nodes]
    try:
        for h in range(1, top + 1):
            blocks = [c.get_block(h, verify=True) for c in clients]
            assert all(b.verified for b in blocks), f"block {h} not certified"
            hashes = {b.hash for b in blocks}
            assert len(hashes) == 1, f"fork at height {h}: {[x.hex()[:12] for x in hashes]}"
    finally:
        for c in clients:
            c.close()
    return top


def check_acked(node: NodeProcess, genesis: Path, acked: dict[str, str], sample: int = 300) -> None:
    """A sample of acknowledged transactions is committed, with verified proofs."""
    with Client(node.url, genesis=genesis) as client:
        for tx_hash in random.Random(1).sample(sorted(acked), min(sample, len(acked))):
            info = client.get_tx(tx_hash, verify=True)
            assert info.status == "committed" and info.verified, f"lost acknowledged {tx_hash}"
