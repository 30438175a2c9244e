"""``Executor.simulate``: the receipt a transaction would get, with nothing kept."""

from __future__ import annotations

from typing import Any

import pytest

from xinlian.execution import InvalidTransaction
from xinlian.types import TxStatus


def _simulate(world: Any, env: Any, **kw: Any) -> Any:
    before = dict(world.state)
    receipt = world.executor.simulate(world.read, env, world.height + 1, world.time_ms + 1000, **kw)
    assert world.state == before  # nothing written
    return receipt


def test_a_simulated_call_gets_the_receipt_the_block_gives_it(world: Any) -> None:
    env = world.tx("writer_a", "kv", "put", {"key": "a", "value": "1"})
    simulated = _simulate(world, env)
    assert world.nonce("writer_a") == 0
    assert world.read(b"kv/a") is None
    (real,) = world.run([env]).receipts
    assert simulated == real
    assert real.status == TxStatus.OK and real.events


@pytest.mark.parametrize(
    ("name", "target", "method", "args", "reason", "words"),
    [
        ("writer_a", "nope", "put", {"key": "a"}, "unknown_target", "unknown target"),
        ("writer_a", "kv", "nope", {"key": "a"}, "unknown_target", "no method 'nope'"),
        ("writer_a", "kv", "put", {"key": 5, "value": "x"}, "invalid_args", "bad arg"),
        ("reader_a", "kv", "put", {"key": "a", "value": "x"}, "permission_denied", "role"),
    ],
)
def test_what_admission_refuses_simulation_refuses(
    world: Any, name: str, target: str, method: str, args: dict[str, Any], reason: str, words: str
) -> None:
    """The mempool's call rules apply: the same refusal, with the same reason code."""
    before = dict(world.state)
    with pytest.raises(InvalidTransaction, match=words) as refused:
        _simulate(world, world.tx(name, target, method, args))
    assert refused.value.reason == reason
    assert world.state == before and world.nonce(name) == 0


def test_a_mistake_found_when_the_call_runs_fails_without_costing_a_block(world: Any) -> None:
    """Deploying needs the deployer role, which the contracts app checks as it runs."""
    call = {"source": "x = 1\n", "init": {}, "upgrade_policy": "immutable"}
    receipt = _simulate(world, world.tx("plain_a", "contracts", "deploy", call))
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert "deployer" in receipt.error
    assert world.nonce("plain_a") == 0


def test_a_contract_the_checker_refuses_fails_in_simulation(world: Any, helpers: Any) -> None:
    genesis = helpers.make_genesis(
        accounts=[*helpers.DEFAULT_ACCOUNTS, ("dev", "a", ("deployer",))]
    )
    w = helpers.World(genesis)
    source = "from contract import export\n\n@export\ndef f() -> int:\n    return 1.5\n"
    call = {"source": source, "init": {}, "upgrade_policy": "immutable"}
    receipt = _simulate(w, w.tx("dev", "contracts", "deploy", call, gas_limit=5_000_000))
    assert receipt.status == TxStatus.INVALID_ARGS
    assert "line 5" in receipt.error and "floats" in receipt.error


def test_used_nonces_are_refused_and_later_ones_simulated(world: Any) -> None:
    world.call("writer_a", "kv", "put", {"key": "a", "value": "1"})
    with pytest.raises(InvalidTransaction, match="nonce 0 is already used; the next is 1"):
        _simulate(world, world.tx("writer_a", nonce=0))
    ahead = _simulate(world, world.tx("writer_a", nonce=5))
    assert ahead.status == TxStatus.OK
    assert world.nonce("writer_a") == 1


def test_admission_failures_are_refusals(world: Any) -> None:
    with pytest.raises(InvalidTransaction, match="unknown sender"):
        _simulate(world, world.tx("stranger"))
    with pytest.raises(InvalidTransaction, match="above the chain's maximum"):
        _simulate(world, world.tx("writer_a", gas_limit=world.genesis.params.max_gas_per_tx + 1))


def test_the_gas_cap_bounds_the_work_but_not_the_admission_checks(world: Any) -> None:
    env = world.tx("writer_a", "kv", "put", {"key": "a", "value": "x" * 2000})
    full = _simulate(world, env)
    assert full.status == TxStatus.OK
    capped = _simulate(world, env, gas_cap=full.gas_used - 1)
    assert capped.status == TxStatus.OUT_OF_GAS
    assert capped.gas_used == full.gas_used - 1
    assert _simulate(world, env, gas_cap=full.gas_used) == full
    too_big = world.tx("writer_a", gas_limit=world.genesis.params.max_gas_per_tx + 1)
    with pytest.raises(InvalidTransaction, match="above the chain's maximum"):
        _simulate(world, too_big, gas_cap=1_000_000)
