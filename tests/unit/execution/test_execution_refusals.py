"""Each admission rule raises its own ``InvalidTransaction`` leaf, carrying its refusal code."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from xinlian.execution import (
    ArgsTooLarge,
    Expired,
    GasLimitOutOfBounds,
    InactiveSender,
    InvalidArgs,
    InvalidBlock,
    InvalidTransaction,
    Mode,
    NonceMismatch,
    PermissionDenied,
    TxTooLarge,
    UnknownSender,
    UnknownTarget,
    WrongChain,
)
from xinlian.execution.overlay import BlockOverlay
from xinlian.protocol import Refusal
from xinlian.types.genesis import ChainParams


def _admit(world: Any, env: Any) -> None:
    world.executor.admit(world.read, env, world.height + 1)


@pytest.mark.parametrize(
    ("build", "leaf", "refusal", "words"),
    [
        (lambda w, h: w.tx("writer_a", expiry=0), Expired, Refusal.EXPIRED, "expired at height"),
        (
            lambda w, h: w.tx("writer_a", gas_limit=10**15),
            GasLimitOutOfBounds,
            Refusal.GAS_LIMIT_OUT_OF_BOUNDS,
            "above the chain's maximum",
        ),
        (
            lambda w, h: w.tx("writer_a", gas_limit=10),
            GasLimitOutOfBounds,
            Refusal.GAS_LIMIT_OUT_OF_BOUNDS,
            "below the intrinsic gas",
        ),
        (
            lambda w, h: h.sign_tx(h.keypair("stranger")),
            UnknownSender,
            Refusal.UNKNOWN_SENDER,
            "unknown sender",
        ),
        (
            lambda w, h: w.tx("writer_a", chain_id="elsewhere"),
            WrongChain,
            Refusal.WRONG_CHAIN,
            "is not this chain's",
        ),
        (
            lambda w, h: w.tx("writer_a", "nope", "put", {"key": "a"}),
            UnknownTarget,
            Refusal.UNKNOWN_TARGET,
            "unknown target",
        ),
        (
            lambda w, h: w.tx("reader_a", "kv", "put", {"key": "a", "value": "x"}),
            PermissionDenied,
            Refusal.PERMISSION_DENIED,
            "lacks role 'writer'",
        ),
        (
            lambda w, h: w.tx("writer_a", "kv", "put", {"key": "a", "value": "x" * 20_000}),
            ArgsTooLarge,
            Refusal.ARGS_TOO_LARGE,
            "limit",
        ),
        (
            lambda w, h: w.tx("writer_a", "kv", "put", {"key": 5, "value": "x"}),
            InvalidArgs,
            Refusal.INVALID_ARGS,
            "bad arguments",
        ),
    ],
)
def test_each_admission_rule_has_its_leaf_and_code(
    world: Any, helpers: SimpleNamespace, build: Any, leaf: type, refusal: Refusal, words: str
) -> None:
    env = build(world, helpers)
    with pytest.raises(leaf, match=words) as info:
        _admit(world, env)
    assert isinstance(info.value, InvalidTransaction)
    assert info.value.refusal is refusal and info.value.reason == refusal.value
    with pytest.raises(leaf) as simulated:  # simulation refuses it the same way
        world.executor.simulate(world.read, env, world.height + 1, world.time_ms + 1000)
    assert simulated.value.refusal is refusal


def test_a_deactivated_sender_is_inactive_sender(world: Any, helpers: SimpleNamespace) -> None:
    receipt = world.call(
        "admin_a", "identity", "deactivate_account", {"address": helpers.address("writer_a")}
    )
    assert receipt.error == ""
    with pytest.raises(InactiveSender, match="is deactivated") as info:
        _admit(world, world.tx("writer_a"))
    assert info.value.refusal is Refusal.INACTIVE_SENDER


def test_an_oversized_transaction_is_too_large(helpers: SimpleNamespace) -> None:
    world = helpers.World(helpers.make_genesis(params=ChainParams(max_tx_bytes=400)))
    with pytest.raises(TxTooLarge) as info:
        _admit(world, world.tx("writer_a", args={"key": "k", "value": "x" * 400}))
    assert info.value.refusal is Refusal.TOO_LARGE


def test_a_wrong_nonce_gets_the_mempool_codes(world: Any) -> None:
    world.run([world.tx("writer_a")])
    used = world.tx("writer_a", nonce=0)
    with pytest.raises(NonceMismatch, match="already used") as low:
        world.executor.simulate(world.read, used, world.height + 1, world.time_ms + 1000)
    assert low.value.refusal is Refusal.NONCE_TOO_LOW
    ahead = world.tx("writer_a", nonce=5)
    result = world.execute([ahead], Mode.BUILD)
    assert result.dropped == [(ahead, "nonce 5, expected 1")]
    with pytest.raises(InvalidBlock, match="nonce 5, expected 1"):
        world.execute([ahead], Mode.VALIDATE)
    with pytest.raises(NonceMismatch) as high:  # the leaf a block builder drops it for
        world.executor._execute_tx(
            BlockOverlay(world.read), world.height + 1, world.time_ms + 1000, ahead
        )
    assert high.value.refusal is Refusal.NONCE_TOO_HIGH
