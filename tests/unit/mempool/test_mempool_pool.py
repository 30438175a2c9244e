"""The mempool: stateless envelope checks, admission limits, reap ordering, re-check."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from xinlian.codec import encode, encode_args
from xinlian.crypto import KeyPair, address_of, get_suite
from xinlian.mempool import Mempool, MempoolError, decode_envelope
from xinlian.protocol import Refusal
from xinlian.types import SignedTransaction, Transaction, TxEnvelope

SUITE = get_suite("ed25519")
CHAIN = "pool-test"
MAX = 65536


def key(name: str) -> KeyPair:
    return SUITE.keypair_from_private(hashlib.sha256(name.encode()).digest())


def raw_tx(
    kp: KeyPair,
    nonce: int,
    *,
    value: str = "v",
    chain_id: str = CHAIN,
    expiry: int = 1000,
    sender: bytes | None = None,
    sign_with: KeyPair | None = None,
) -> bytes:
    tx = Transaction(
        chain_id,
        kp.public_key if sender is None else sender,
        nonce,
        "kv",
        "put",
        encode_args({"key": "k", "value": value}),
        100_000,
        expiry,
    )
    signature = SUITE.sign((sign_with or kp).private_key, encode(tx))
    return encode(SignedTransaction(tx, signature))


def env(name: str, nonce: int, **kw: object) -> TxEnvelope:
    return decode_envelope(SUITE, CHAIN, raw_tx(key(name), nonce, **kw), MAX)  # type: ignore[arg-type]


def addr(name: str) -> str:
    return address_of(SUITE, key(name).public_key)


def pool_with(nonces: dict[str, int], **kw: object) -> Mempool:
    return Mempool(lambda a: nonces.get(a, 0), **kw)  # type: ignore[arg-type]


def refusal(action: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(MempoolError) as info:
        action()
    assert isinstance(info.value.reason, Refusal)  # a typed code, with its one status
    return info.value.reason, str(info.value)


# ---------------------------------------------------------------------------------------
# decode_envelope
# ---------------------------------------------------------------------------------------


def test_decode_envelope_accepts_a_signed_transaction() -> None:
    raw = raw_tx(key("alice"), 3)
    e = decode_envelope(SUITE, CHAIN, raw, MAX)
    assert e.raw == raw
    assert e.hash == hashlib.sha256(raw).digest()
    assert e.sender_address == addr("alice")
    assert e.stx.tx.nonce == 3


@pytest.mark.parametrize(
    "raw",
    [b"", b"\xc1", b"\x92\x01\x02", b"garbage bytes"],
)
def test_malformed(raw: bytes) -> None:
    reason, message = refusal(lambda: decode_envelope(SUITE, CHAIN, raw, MAX))
    assert reason == "malformed"
    assert message.startswith("cannot decode SignedTransaction: ")


def test_non_canonical_is_malformed() -> None:
    raw = raw_tx(key("alice"), 0)
    reason, message = refusal(lambda: decode_envelope(SUITE, CHAIN, raw + b"\x00", MAX))
    assert reason == "malformed"
    assert "trailing characters" in message


def test_invalid_utf8_is_malformed_not_a_crash() -> None:
    raw = raw_tx(key("alice"), 0)
    bad = raw.replace(b"\xa9pool-test", b"\xa9pool-tes\xff", 1)
    assert bad != raw
    reason, message = refusal(lambda: decode_envelope(SUITE, CHAIN, bad, MAX))
    assert reason == "malformed"
    assert "not valid UTF-8" in message


def test_wrong_chain() -> None:
    raw = raw_tx(key("alice"), 0, chain_id="elsewhere")
    assert refusal(lambda: decode_envelope(SUITE, CHAIN, raw, MAX)) == (
        "wrong_chain",
        "chain id 'elsewhere' is not 'pool-test'",
    )


def test_flipped_signature_bit() -> None:
    raw = bytearray(raw_tx(key("alice"), 0))
    raw[-1] ^= 0x01  # last byte of the signature
    assert refusal(lambda: decode_envelope(SUITE, CHAIN, bytes(raw), MAX)) == (
        "bad_signature",
        "signature does not verify for the sender's key",
    )


def test_signed_by_another_key() -> None:
    raw = raw_tx(key("alice"), 0, sign_with=key("mallory"))
    assert refusal(lambda: decode_envelope(SUITE, CHAIN, raw, MAX))[0] == "bad_signature"


def test_body_changed_after_signing() -> None:
    good = decode_envelope(SUITE, CHAIN, raw_tx(key("alice"), 0), MAX)
    tx = good.stx.tx
    forged = Transaction(
        tx.chain_id, tx.sender, 1, tx.target, tx.method, tx.args, tx.gas_limit, tx.expiry
    )
    raw = encode(SignedTransaction(forged, good.stx.signature))
    assert refusal(lambda: decode_envelope(SUITE, CHAIN, raw, MAX))[0] == "bad_signature"


def test_sender_of_wrong_size() -> None:
    raw = raw_tx(key("alice"), 0, sender=b"\x01" * 33)
    assert refusal(lambda: decode_envelope(SUITE, CHAIN, raw, MAX)) == (
        "bad_signature",
        "sender is not a ed25519 public key (32 bytes)",
    )


def test_oversize() -> None:
    raw = raw_tx(key("alice"), 0)
    assert decode_envelope(SUITE, CHAIN, raw, len(raw)).raw == raw
    n = len(raw)
    assert refusal(lambda: decode_envelope(SUITE, CHAIN, raw, n - 1)) == (
        "too_large",
        f"transaction is {n} bytes, limit {n - 1}",
    )
    # the size check comes first: oversize garbage is too_large, not malformed
    assert refusal(lambda: decode_envelope(SUITE, CHAIN, b"\xc1" * 10, 9))[0] == "too_large"


# ---------------------------------------------------------------------------------------
# add
# ---------------------------------------------------------------------------------------


def test_add_and_contains() -> None:
    pool = pool_with({})
    e = env("alice", 0)
    pool.add(e)
    assert len(pool) == 1
    assert e.hash in pool
    assert pool.pending() == [e]


def test_duplicate() -> None:
    pool = pool_with({})
    e = env("alice", 0)
    pool.add(e)
    assert refusal(lambda: pool.add(e)) == ("duplicate", "transaction is already pending")
    assert len(pool) == 1


def test_nonce_too_low() -> None:
    pool = pool_with({addr("alice"): 3})
    assert refusal(lambda: pool.add(env("alice", 2))) == (
        "nonce_too_low",
        "nonce 2 already used; the sender's next nonce is 3",
    )
    pool.add(env("alice", 3))


def test_nonce_too_high() -> None:
    pool = pool_with({addr("alice"): 10}, max_nonce_gap=5)
    pool.add(env("alice", 15))
    assert refusal(lambda: pool.add(env("alice", 16))) == (
        "nonce_too_high",
        "nonce 16 is more than 5 ahead of 10",
    )


def test_nonce_taken() -> None:
    pool = pool_with({})
    pool.add(env("alice", 0, value="first"))
    assert refusal(lambda: pool.add(env("alice", 0, value="second"))) == (
        "nonce_taken",
        "another transaction with nonce 0 from this sender is pending",
    )
    pool.add(env("bob", 0))  # other senders are not affected


def test_per_sender_limit() -> None:
    pool = pool_with({}, max_per_sender=3)
    for n in range(3):
        pool.add(env("alice", n))
    assert refusal(lambda: pool.add(env("alice", 3))) == (
        "sender_limit",
        "sender already has 3 pending transactions",
    )
    pool.add(env("bob", 0))


def test_full() -> None:
    pool = pool_with({}, max_txs=2)
    pool.add(env("alice", 0))
    pool.add(env("bob", 0))
    assert refusal(lambda: pool.add(env("carol", 0))) == (
        "full",
        "mempool is full (2 transactions)",
    )
    assert len(pool) == 2


def test_admit_hook_refuses() -> None:
    seen: list[TxEnvelope] = []

    def admit(e: TxEnvelope) -> None:
        seen.append(e)
        if e.sender_address == addr("mallory"):
            raise MempoolError(Refusal.UNKNOWN_SENDER, "unknown sender")

    pool = pool_with({}, admit=admit)
    good = env("alice", 0)
    pool.add(good)
    assert refusal(lambda: pool.add(env("mallory", 0))) == ("unknown_sender", "unknown sender")
    assert len(pool) == 1
    assert refusal(lambda: pool.add(good))[0] == "duplicate"
    assert [e.sender_address for e in seen] == [addr("alice"), addr("mallory")]


def test_admit_hook_may_replace_the_envelope_with_decoded_arguments() -> None:
    def admit(e: TxEnvelope) -> TxEnvelope:
        return e._replace(args={"decoded": e.stx.tx.nonce})

    pool = pool_with({}, admit=admit)
    first = env("alice", 0)
    pool.add(first)
    kept = pool.get(first.hash)
    assert kept is not None and kept.args == {"decoded": 0}
    assert pool.reap(10) == [kept]


# ---------------------------------------------------------------------------------------
# reap
# ---------------------------------------------------------------------------------------


def nonces_of(envs: list[TxEnvelope]) -> list[tuple[str, int]]:
    names = {addr(n): n for n in ("alice", "bob", "carol")}
    return [(names[e.sender_address], e.stx.tx.nonce) for e in envs]


def test_reap_orders_nonces_per_sender_in_arrival_order() -> None:
    pool = pool_with({})
    for name, nonce in [("bob", 1), ("alice", 2), ("bob", 0), ("alice", 0), ("alice", 1)]:
        pool.add(env(name, nonce))
    # Senders take turns in order of first arrival; each in nonce order.
    assert nonces_of(pool.reap(10)) == [
        ("bob", 0),
        ("alice", 0),
        ("bob", 1),
        ("alice", 1),
        ("alice", 2),
    ]


def test_gap_stops_a_sender() -> None:
    pool = pool_with({})
    for name, nonce in [("alice", 0), ("alice", 1), ("alice", 3), ("bob", 1), ("carol", 0)]:
        pool.add(env(name, nonce))
    assert nonces_of(pool.reap(10)) == [("alice", 0), ("carol", 0), ("alice", 1)]
    pool.add(env("alice", 2))
    pool.add(env("bob", 0))
    assert nonces_of(pool.reap(10)) == [
        ("alice", 0),
        ("bob", 0),
        ("carol", 0),
        ("alice", 1),
        ("bob", 1),
        ("alice", 2),
        ("alice", 3),
    ]


def test_reap_limit() -> None:
    pool = pool_with({})
    for n in range(4):
        pool.add(env("alice", n))
    pool.add(env("bob", 0))
    assert pool.reap(0) == []
    # One busy sender cannot fill the block: bob gets his turn.
    assert nonces_of(pool.reap(3)) == [("alice", 0), ("bob", 0), ("alice", 1)]
    assert len(pool.reap(100)) == 5
    assert len(pool) == 5  # reaping does not remove


def test_reap_starts_at_the_state_nonce() -> None:
    nonces: dict[str, int] = {}
    pool = pool_with(nonces)
    for n in range(3):
        pool.add(env("alice", n))
    nonces[addr("alice")] = 2  # committed elsewhere; no update yet
    assert nonces_of(pool.reap(10)) == [("alice", 2)]


# ---------------------------------------------------------------------------------------
# update
# ---------------------------------------------------------------------------------------


def test_update_removes_committed_and_stale() -> None:
    nonces: dict[str, int] = {}
    pool = pool_with(nonces)
    a = [env("alice", n) for n in range(4)]
    for e in a:
        pool.add(e)
    b0 = env("bob", 0)
    pool.add(b0)
    # alice 0 and 1 committed; a different "alice 2" was committed by another proposer
    other_a2 = env("alice", 2, value="other")
    nonces[addr("alice")] = 3
    pool.update([a[0], a[1], other_a2])
    assert a[2].hash not in pool  # stale: its nonce is used
    assert [e.stx.tx.nonce for e in pool.reap(10)] == [3, 0]
    assert len(pool) == 2


def test_update_removes_dropped_and_expired() -> None:
    nonces: dict[str, int] = {}
    pool = pool_with(nonces)
    keep = env("alice", 1, expiry=50)
    gone = env("alice", 2, expiry=9)
    dropped = env("alice", 0)
    for e in (dropped, keep, gone):
        pool.add(e)
    pool.update([], [dropped], height=10)
    assert dropped.hash not in pool
    assert gone.hash not in pool
    assert keep.hash in pool
    assert len(pool) == 1


def test_empty_sender_is_forgotten() -> None:
    nonces: dict[str, int] = {}
    pool = pool_with(nonces, max_per_sender=1)
    first = env("alice", 0)
    pool.add(first)
    nonces[addr("alice")] = 1
    pool.update([first])
    assert len(pool) == 0
    assert pool.reap(10) == []
    pool.add(env("alice", 1))
    assert len(pool) == 1


def test_update_with_unknown_envelopes_is_harmless() -> None:
    pool = pool_with({})
    e = env("alice", 0)
    pool.add(e)
    pool.update([env("bob", 0)], [env("carol", 5)])
    assert e.hash in pool


def test_pending_limit() -> None:
    pool = pool_with({})
    for n in range(5):
        pool.add(env("alice", n))
    assert len(pool.pending(3)) == 3
    assert len(pool.pending()) == 5


# ---------------------------------------------------------------------------------------
# a state machine against a simple model
# ---------------------------------------------------------------------------------------

SENDERS = ["alice", "bob", "carol"]
ENVS: dict[tuple[str, int, int], TxEnvelope] = {}


def cached_env(name: str, nonce: int, variant: int) -> TxEnvelope:
    k = (name, nonce, variant)
    if k not in ENVS:
        ENVS[k] = env(name, nonce, value=f"v{variant}")
    return ENVS[k]


class PoolMachine(RuleBasedStateMachine):
    MAX_TXS = 10
    PER_SENDER = 4
    GAP = 5

    def __init__(self) -> None:
        super().__init__()
        self.nonces: dict[str, int] = {}
        self.pool = Mempool(
            lambda a: self.nonces.get(a, 0),
            max_txs=self.MAX_TXS,
            max_per_sender=self.PER_SENDER,
            max_nonce_gap=self.GAP,
        )
        self.model: dict[str, dict[int, TxEnvelope]] = {}

    def _expected(self, e: TxEnvelope) -> str | None:
        a, n = e.sender_address, e.stx.tx.nonce
        mine = self.model.get(a, {})
        if any(x.hash == e.hash for x in mine.values()):
            return "duplicate"
        state = self.nonces.get(a, 0)
        if n < state:
            return "nonce_too_low"
        if n > state + self.GAP:
            return "nonce_too_high"
        if n in mine:
            return "nonce_taken"
        if len(mine) >= self.PER_SENDER:
            return "sender_limit"
        if sum(len(m) for m in self.model.values()) >= self.MAX_TXS:
            return "full"
        return None

    @rule(
        name=st.sampled_from(SENDERS),
        offset=st.integers(-2, GAP + 2),
        variant=st.integers(0, 1),
    )
    def add(self, name: str, offset: int, variant: int) -> None:
        nonce = self.nonces.get(addr(name), 0) + offset
        if nonce < 0:
            return
        e = cached_env(name, nonce, variant)
        expected = self._expected(e)
        try:
            self.pool.add(e)
            got = None
        except MempoolError as exc:
            got = exc.reason
        assert got == expected
        if got is None:
            self.model.setdefault(e.sender_address, {})[nonce] = e

    @rule(limit=st.integers(0, 12))
    def reap(self, limit: int) -> None:
        out = self.pool.reap(limit)
        assert len(out) <= limit
        assert len({e.hash for e in out}) == len(out)
        runs: dict[str, list[int]] = {}
        for e in out:
            assert e.hash in self.pool
            runs.setdefault(e.sender_address, []).append(e.stx.tx.nonce)
        for a, got in runs.items():
            start = self.nonces.get(a, 0)
            assert got == list(range(start, start + len(got))), "reaped a nonce gap"
        if len(out) < limit:  # nothing executable was left behind
            for a, mine in self.model.items():
                n = self.nonces.get(a, 0)
                run = 0
                while n + run in mine:
                    run += 1
                assert len(runs.get(a, [])) == run

    @rule(limit=st.integers(1, 6))
    def commit(self, limit: int) -> None:
        out = self.pool.reap(limit)
        for e in out:
            self.nonces[e.sender_address] = e.stx.tx.nonce + 1
        self.pool.update(out)
        self._prune()

    @rule(name=st.sampled_from(SENDERS), by=st.integers(1, 3))
    def committed_elsewhere(self, name: str, by: int) -> None:
        a = addr(name)
        start = self.nonces.get(a, 0)
        others = [cached_env(name, n, 9) for n in range(start, start + by)]
        self.nonces[a] = start + by
        self.pool.update(others)
        self._prune()

    def _prune(self) -> None:
        for a in list(self.model):
            state = self.nonces.get(a, 0)
            self.model[a] = {n: e for n, e in self.model[a].items() if n >= state}
            if not self.model[a]:
                del self.model[a]

    @invariant()
    def within_limits_and_matches_model(self) -> None:
        assert len(self.pool) <= self.MAX_TXS
        assert len(self.pool) == sum(len(m) for m in self.model.values())
        for mine in self.model.values():
            assert len(mine) <= self.PER_SENDER
            for e in mine.values():
                assert e.hash in self.pool


PoolMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
test_pool_state_machine = PoolMachine.TestCase


def test_expired_transactions_behind_a_gap_are_swept() -> None:
    from xinlian.mempool.pool import EXPIRY_SWEEP_BLOCKS

    pool = pool_with({})
    stuck = env("alice", 5, expiry=10)  # nonce gap: never reaped, never in a block
    pool.add(stuck)
    pool.add(env("bob", 0, expiry=10**6))
    pool.update([], [], height=EXPIRY_SWEEP_BLOCKS - 1)  # alice untouched: not yet swept
    assert stuck.hash in pool
    pool.update([], [], height=EXPIRY_SWEEP_BLOCKS)
    assert stuck.hash not in pool
    assert len(pool) == 1
