"""The mempool bounds the bytes it holds, not only the count of transactions."""

from __future__ import annotations

import hashlib

import pytest

from xinlian.codec import encode, encode_args
from xinlian.crypto import address_of, get_suite
from xinlian.mempool import Mempool, MempoolError
from xinlian.types import SignedTransaction, Transaction, TxEnvelope

SUITE = get_suite("ed25519")


def _env(nonce: int, size: int) -> TxEnvelope:
    kp = SUITE.keypair_from_private(hashlib.sha256(b"bytes").digest())
    args = encode_args({"key": "k", "value": "x" * size})
    tx = Transaction("c", kp.public_key, nonce, "kv", "put", args, 10**6, 100)
    stx = SignedTransaction(tx, SUITE.sign(kp.private_key, encode(tx)))
    raw = encode(stx)
    return TxEnvelope(stx, raw, SUITE.hash(raw), address_of(SUITE, kp.public_key))


def test_pending_bytes_are_bounded_and_freed() -> None:
    envs = [_env(n, 1000) for n in range(3)]
    pool = Mempool(lambda _a: 0, max_bytes=2 * len(envs[0].raw) + 10)
    pool.add(envs[0])
    pool.add(envs[1])
    with pytest.raises(MempoolError, match="bytes pending") as info:
        pool.add(envs[2])
    assert info.value.reason == "full"
    pool.update([envs[0]])
    pool.add(envs[2])  # room again once a transaction left
    assert len(pool) == 2
