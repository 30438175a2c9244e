"""Kill a real node with SIGKILL under load; it restarts at the last complete block.

Checks after every restart: each block 1..height is whole (header, commit certificate
signed by the validator, transactions matching ``tx_root``, receipts matching
``receipts_root``), the state root equals the latest header's, and every transaction the
API had reported committed before the kill is still there with its value provable.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from nodeproc import NodeProcess, free_port, http

from xinlian.codec import encode, encode_args
from xinlian.crypto import address_of, get_suite
from xinlian.crypto.merkle import merkle_root
from xinlian.crypto.proofs import verify_state_proof
from xinlian.node.keys import read_key
from xinlian.node.network import create_network
from xinlian.types import (
    BlockHeader,
    SignedTransaction,
    StateProof,
    StateProofStep,
    Transaction,
    Vote,
    VoteType,
)

pytestmark = pytest.mark.integration
SUITE = get_suite("ed25519")
KILLS = 3


def _header(doc: dict[str, object]) -> BlockHeader:
    fields = {
        k: bytes.fromhex(v) if isinstance(v, str) and k != "chain_id" else v for k, v in doc.items()
    }
    return BlockHeader(**fields)  # type: ignore[arg-type]


class Load(threading.Thread):
    """Submits kv.put batches until stopped; remembers what the API said was committed."""

    def __init__(self, url: str, keys: list[Path]) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.senders = [read_key(k)[0] for k in keys]
        self.nonces = {kp.public_key: self._nonce(kp.public_key) for kp in self.senders}
        self.acked: dict[str, tuple[str, str]] = {}  # tx hash -> (key, value)
        self.halt = threading.Event()
        self.counter = 0
        self.refusal: object = None

    def _nonce(self, public_key: bytes) -> int:
        _, doc = http(f"{self.url}/v1/accounts/{address_of(SUITE, public_key)}")
        return int(doc["nonce"])

    def run(self) -> None:
        while not self.halt.is_set():
            batch: list[tuple[str, str, str]] = []
            raws = []
            for kp in self.senders:
                for _ in range(50):
                    self.counter += 1
                    key, value = f"crash/{self.counter}", f"v{self.counter}"
                    tx = Transaction(
                        "xinlian-dev",
                        kp.public_key,
                        self.nonces[kp.public_key],
                        "kv",
                        "put",
                        encode_args({"key": key, "value": value}),
                        200_000,
                        10**12,
                    )
                    self.nonces[kp.public_key] += 1
                    raw = encode(SignedTransaction(tx, SUITE.sign(kp.private_key, encode(tx))))
                    raws.append(raw)
                    batch.append((SUITE.hash(raw).hex(), key, value))
            try:
                status, doc = http(
                    self.url + "/v1/transactions/batch",
                    body={"txs": [r.hex() for r in raws]},
                    timeout=10,
                )
                if status != 200 or doc["accepted"] != len(raws):
                    self.refusal = doc
                    return
                deadline = time.monotonic() + 10
                last = batch[-1][0]
                while time.monotonic() < deadline and not self.halt.is_set():
                    status, tx_doc = http(f"{self.url}/v1/transactions/{last}", timeout=10)
                    if status == 200 and tx_doc["status"] == "committed":
                        # Nonce order: every earlier tx of this batch is committed too.
                        for tx_hash, key, value in batch:
                            self.acked[tx_hash] = (key, value)
                        break
                    time.sleep(0.02)
            except OSError:
                return  # the node was killed


def check_chain(url: str, validator_key: bytes, acked: dict[str, tuple[str, str]]) -> int:
    status, st = http(url + "/v1/status")
    assert status == 200
    height = st["height"]
    prev_hash = bytes.fromhex(st["genesis_hash"])
    for h in range(1, height + 1):
        status, blk = http(f"{url}/v1/blocks/{h}")
        assert status == 200, blk
        header = _header(blk["header"])
        assert header.prev_hash == prev_hash, f"block {h} does not link to block {h - 1}"
        block_hash = SUITE.hash(encode(header))
        assert block_hash.hex() == blk["hash"]
        sig = bytes.fromhex(blk["commit"]["signatures"][0]["signature"])
        round_ = blk["commit"]["round"]  # above 0 when a restart fell in the middle of h
        vote = Vote("xinlian-dev", int(VoteType.PRECOMMIT), h, round_, block_hash)
        assert SUITE.verify(validator_key, encode(vote), sig), f"block {h} commit invalid"
        hashes = [bytes.fromhex(x) for x in blk["txs"]]
        assert merkle_root(SUITE.hash, hashes) == header.tx_root
        prev_hash = block_hash
    latest = _header(http(f"{url}/v1/blocks/{height}")[1]["header"]) if height else None
    assert latest is None or bytes.fromhex(st["state_root"]) == latest.state_root
    sample = random.Random(height).sample(sorted(acked), min(200, len(acked)))
    for tx_hash in sample:
        status, doc = http(f"{url}/v1/transactions/{tx_hash}")
        assert status == 200 and doc["status"] == "committed", f"lost acknowledged tx {tx_hash}"
        key, value = acked[tx_hash]
        status, state = http(f"{url}/v1/state/kv/{key}")
        proof = StateProof(
            [
                StateProofStep(s["nibble"], [bytes.fromhex(c) for c in s["children"]])
                for s in state["proof"]["steps"]
            ],
            bytes.fromhex(state["proof"]["leaf_key_hash"]),
            bytes.fromhex(state["proof"]["leaf_value_hash"]),
        )
        assert verify_state_proof(
            SUITE.hash,
            bytes.fromhex(state["state_root"]),
            f"kv/{key}".encode(),
            value.encode(),
            proof,
        )
    return int(height)


def test_sigkill_under_load_loses_nothing(tmp_path: Path) -> None:
    port = free_port()
    layout = create_network(tmp_path / "net", nodes=1, base_port=port, block_interval_ms=30)
    home = layout.node_homes[0]
    validator = read_key(home / "node.key")[0].public_key
    writers = [layout.key_dir / f"org{i}-writer.key" for i in (1, 2, 3)]
    node = NodeProcess(home, port)
    rng = random.Random(20261128)
    acked: dict[str, tuple[str, str]] = {}
    heights = []
    for _ in range(KILLS):
        node.start()
        heights.append(check_chain(node.url, validator, acked))
        load = Load(node.url, writers)
        load.start()
        time.sleep(rng.uniform(1.0, 3.0))
        node.kill()
        load.halt.set()
        load.join(timeout=30)
        acked.update(load.acked)
    node.start()
    try:
        final = check_chain(node.url, validator, acked)
    finally:
        node.stop()
    assert len(acked) > 0, "the load never saw a commit; the test proved nothing"
    assert final >= max(heights)
