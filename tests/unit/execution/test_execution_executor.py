"""The executor: admission checks, nonces, permissions, gas, rollback, receipts, queries."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import Struct

from xinlian.apps import CallError, Method, Role, identity
from xinlian.codec import decode, encode, encode_args
from xinlian.execution import (
    GAS,
    ExecutionError,
    InvalidBlock,
    InvalidTransaction,
    Mode,
    QueryError,
)
from xinlian.execution.executor import nonce_key
from xinlian.execution.gas import GasMeter, OutOfGas, intrinsic_gas
from xinlian.types import Event, TxStatus
from xinlian.types.genesis import ChainParams

# ---------------------------------------------------------------------------------------
# a probe app to observe rollback and read-only enforcement
# ---------------------------------------------------------------------------------------


class ProbeArgs(Struct, frozen=True, forbid_unknown_fields=True):
    n: int


def _fail_after_writes(ctx: Any, args: ProbeArgs) -> None:
    ctx.state.put(b"mine", b"1")
    ctx.state.app_state("kv").put(b"stolen", b"v")
    ctx.emit(Event("probe.wrote", {"n": str(args.n)}))
    raise CallError("probe failed on purpose")


def _burn(ctx: Any, args: ProbeArgs) -> int:
    ctx.state.put(b"burnt", b"1")
    ctx.charge(args.n)
    return args.n


def _sneaky_query(ctx: Any, args: ProbeArgs) -> None:
    ctx.state.put(b"sneaky", b"1")


def _deleting_query(ctx: Any, args: ProbeArgs) -> None:
    ctx.state.app_state("kv").delete(b"k")


class ProbeApp:
    name = "probe"
    methods = {  # noqa: RUF012
        "fail_after_writes": Method(_fail_after_writes, ProbeArgs, None),
        "burn": Method(_burn, ProbeArgs, None),
        "sneaky": Method(_sneaky_query, ProbeArgs, None, readonly=True),
        "deleting": Method(_deleting_query, ProbeArgs, None, readonly=True),
    }

    def init_genesis(self, state: Any, genesis: Any) -> None:
        state.put(b"init", b"1")


@pytest.fixture
def probe_world(helpers: SimpleNamespace) -> Any:
    return helpers.World(extra_apps={"probe": ProbeApp()})


def kv_put_gas(raw_len: int, key: str, value: str, writer: str) -> int:
    # Events cost per byte of their canonical encoding.
    size = len(encode(Event("kv.put", {"key": key, "writer": writer})))
    return (
        intrinsic_gas(raw_len)
        + GAS.write
        + GAS.write_byte * (len(key) + len(value))
        + GAS.event
        + GAS.event_byte * size
    )


# ---------------------------------------------------------------------------------------
# genesis and the happy path
# ---------------------------------------------------------------------------------------


def test_genesis_state(world: Any, helpers: SimpleNamespace) -> None:
    assert world.org("a") == identity.Org("a", "Org A", True)
    admin = world.account(helpers.address("admin_a"))
    assert admin == identity.Account(
        helpers.address("admin_a"),
        helpers.keypair("admin_a").public_key,
        "admin_a",
        "a",
        ["admin"],
        True,
    )
    assert decode(world.read(b"governance/orgs"), list[str]) == ["a", "b", "c"]
    assert world.nonce("admin_a") == 0
    assert not any(k.startswith(b"kv/") for k in world.state)


def test_genesis_changes_from_every_app(probe_world: Any) -> None:
    assert probe_world.read(b"probe/init") == b"1"


def test_kv_put_receipt_gas_and_changes(world: Any, helpers: SimpleNamespace) -> None:
    env = world.tx("writer_a", "kv", "put", {"key": "color", "value": "blue"})
    result = world.run([env])
    writer = helpers.address("writer_a")
    (receipt,) = result.receipts
    assert result.txs == [env]
    assert result.dropped == []
    assert receipt.tx_hash == env.hash
    assert receipt.status == TxStatus.OK
    assert receipt.error == ""
    assert receipt.output == b""
    assert receipt.events == [Event("kv.put", {"key": "color", "writer": writer})]
    assert receipt.gas_used == kv_put_gas(len(env.raw), "color", "blue", writer)
    assert result.changes == {nonce_key(writer): encode(1), b"kv/color": b"blue"}
    assert world.nonce("writer_a") == 1


def test_consecutive_nonces_in_one_block(world: Any) -> None:
    txs = [world.tx("writer_a", "kv", "put", {"key": f"k{i}", "value": "v"}) for i in range(5)]
    result = world.run(txs)
    assert [r.status for r in result.receipts] == [TxStatus.OK] * 5
    assert [e.stx.tx.nonce for e in result.txs] == [0, 1, 2, 3, 4]
    assert world.nonce("writer_a") == 5


def test_later_tx_sees_earlier_writes_in_the_same_block(world: Any) -> None:
    put = world.tx("writer_a", "kv", "put", {"key": "k", "value": "v"})
    delete = world.tx("writer_a", "kv", "delete", {"key": "k"})
    result = world.run([put, delete])
    assert [r.status for r in result.receipts] == [TxStatus.OK, TxStatus.OK]
    assert result.changes[b"kv/k"] is None
    assert b"kv/k" not in world.state


# ---------------------------------------------------------------------------------------
# admission checks
# ---------------------------------------------------------------------------------------


def test_wrong_nonce_in_validate_mode_rejects_the_block(world: Any) -> None:
    env = world.tx("writer_a", nonce=5)
    with pytest.raises(InvalidBlock) as info:
        world.execute([env], Mode.VALIDATE)
    assert str(info.value) == f"transaction {env.hash.hex()}: nonce 5, expected 0"
    assert isinstance(info.value, ExecutionError)


def test_wrong_nonce_in_build_mode_is_dropped(world: Any) -> None:
    good = world.tx("writer_a", nonce=0)
    bad = world.tx("writer_a", nonce=2)
    other = world.tx("writer_b", nonce=0)
    result = world.execute([good, bad, other], Mode.BUILD)
    assert result.txs == [good, other]
    assert [r.tx_hash for r in result.receipts] == [good.hash, other.hash]
    assert result.dropped == [(bad, "nonce 2, expected 1")]


def test_replayed_transaction_is_refused(world: Any) -> None:
    env = world.tx("writer_a")
    world.run([env])
    with pytest.raises(InvalidBlock, match="nonce 0, expected 1"):
        world.execute([env])
    assert world.execute([env], Mode.BUILD).dropped == [(env, "nonce 0, expected 1")]


def test_same_transaction_twice_in_a_block(world: Any) -> None:
    env = world.tx("writer_a")
    result = world.execute([env, env], Mode.BUILD)
    assert result.txs == [env]
    assert result.dropped == [(env, "nonce 0, expected 1")]
    with pytest.raises(InvalidBlock, match="nonce 0, expected 1"):
        world.execute([env, env], Mode.VALIDATE)


def test_invalid_tx_changes_nothing_in_build_mode(world: Any) -> None:
    result = world.execute([world.tx("writer_a", nonce=9)], Mode.BUILD)
    assert result.changes == {}
    assert result.receipts == []


def test_expiry(world: Any) -> None:
    ok = world.tx("writer_a", expiry=1)
    assert world.run([ok]).receipts[0].status == TxStatus.OK  # height 1 == expiry
    late = world.tx("writer_a", expiry=1)
    with pytest.raises(InvalidBlock, match=r"expired at height 1 \(now 2\)$"):
        world.execute([late])
    result = world.execute([late], Mode.BUILD)
    assert result.dropped == [(late, "expired at height 1 (now 2)")]


def test_wrong_chain_id(world: Any) -> None:
    env = world.tx("writer_a", chain_id="other-chain")
    with pytest.raises(
        InvalidBlock, match=r"chain id 'other-chain' is not this chain's \('xinlian-test'\)"
    ):
        world.execute([env])


def test_gas_limit_below_intrinsic(world: Any) -> None:
    env = world.tx("writer_a", gas_limit=1500)
    need = intrinsic_gas(len(env.raw))
    assert need > 1500
    result = world.execute([env], Mode.BUILD)
    assert result.dropped == [(env, f"gas limit 1500 below the intrinsic gas {need}")]


def test_gas_limit_above_chain_maximum(world: Any) -> None:
    top = world.genesis.params.max_gas_per_tx
    env = world.tx("writer_a", gas_limit=top + 1)
    with pytest.raises(InvalidBlock, match=f"gas limit {top + 1} above the chain's maximum {top}"):
        world.execute([env])
    at_max = world.tx("writer_a", nonce=0, gas_limit=top)
    assert world.execute([at_max]).receipts[0].status == TxStatus.OK


def test_oversized_transaction(helpers: SimpleNamespace) -> None:
    world = helpers.World(helpers.make_genesis(params=ChainParams(max_tx_bytes=400)))
    env = world.tx("writer_a", args={"key": "k", "value": "x" * 400})
    with pytest.raises(InvalidBlock, match=f"transaction is {len(env.raw)} bytes, limit 400"):
        world.execute([env])


def test_unknown_sender_is_refused_with_reason(world: Any, helpers: SimpleNamespace) -> None:
    env = helpers.sign_tx(helpers.keypair("stranger"))
    addr = helpers.address("stranger")
    result = world.execute([env], Mode.BUILD)
    assert result.dropped == [
        (env, f"unknown sender {addr}: the key is not registered to any organisation")
    ]
    with pytest.raises(InvalidTransaction, match=f"unknown sender {addr}"):
        world.executor.check_admission(world.read, env, 1)


def test_check_admission_returns_next_nonce(world: Any) -> None:
    world.run([world.tx("writer_a"), world.tx("writer_a")])
    ahead = world.tx("writer_a", nonce=7)
    assert world.executor.check_admission(world.read, ahead, world.height + 1) == 2
    with pytest.raises(InvalidTransaction, match="expired"):
        world.executor.check_admission(world.read, world.tx("writer_a", expiry=0), 1)


# ---------------------------------------------------------------------------------------
# permission, args, targets
# ---------------------------------------------------------------------------------------


def test_missing_role_is_permission_denied_and_consumes_nonce(
    world: Any, helpers: SimpleNamespace
) -> None:
    env = world.tx("reader_a", "kv", "put", {"key": "k", "value": "v"})
    result = world.run([env])
    (receipt,) = result.receipts
    reader = helpers.address("reader_a")
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert receipt.error == f"account {reader} lacks role 'writer' for kv.put"
    assert receipt.events == []
    assert receipt.gas_used == intrinsic_gas(len(env.raw))
    assert result.changes == {nonce_key(reader): encode(1)}
    assert world.nonce("reader_a") == 1


def test_account_without_roles_cannot_use_admin_methods(
    world: Any, helpers: SimpleNamespace
) -> None:
    receipt = world.call(
        "plain_a",
        "identity",
        "register_account",
        {"public_key": b"\x01" * 32, "name": "x", "roles": []},
    )
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert receipt.error == (
        f"account {helpers.address('plain_a')} lacks role 'admin' for identity.register_account"
    )


def test_admin_holds_every_role(world: Any) -> None:
    receipt = world.call("admin_a", "kv", "put", {"key": "k", "value": "v"})
    assert receipt.status == TxStatus.OK


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"key": "k"}, "Object missing required field `value`"),
        ({"key": "k", "value": "v", "x": 1}, "Object contains unknown field `x`"),
        ({"key": 1, "value": "v"}, r"Expected `str`, got `int` - at `\$.key`"),
        (b"\xc1", "MessagePack data is malformed"),
        (b"\x92\xa1k\xa1v", "Expected `object`, got `array`"),
    ],
)
def test_bad_args_are_invalid_args(world: Any, args: Any, error: str) -> None:
    env = world.tx("writer_a", "kv", "put", args)
    (receipt,) = world.run([env]).receipts
    assert receipt.status == TxStatus.INVALID_ARGS
    assert receipt.error.startswith("bad arguments for kv.put: cannot decode PutArgs: ")
    assert re.search(error, receipt.error)
    assert world.nonce("writer_a") == 1


def test_non_canonical_args_are_invalid_args(world: Any) -> None:
    unsorted = b"\x82\xa5value\xa1v\xa3key\xa1k"
    (receipt,) = world.run([world.tx("writer_a", "kv", "put", unsorted)]).receipts
    assert receipt.status == TxStatus.INVALID_ARGS
    assert "not the canonical encoding of PutArgs" in receipt.error


def test_unknown_target(world: Any) -> None:
    receipt = world.call("writer_a", "nope", "put", {})
    assert receipt.status == TxStatus.UNKNOWN_TARGET
    assert (
        receipt.error == "unknown target 'nope'; built-in apps are "
        "['contracts', 'evidence', 'governance', 'identity', 'kv', 'trace']"
    )
    assert world.nonce("writer_a") == 1


def test_unknown_method_and_query_method_in_a_transaction(world: Any) -> None:
    receipt = world.call("writer_a", "kv", "nope", {})
    assert receipt.status == TxStatus.UNKNOWN_TARGET
    assert receipt.error == "kv has no method 'nope'; methods are ['delete', 'put']"
    receipt = world.call("writer_a", "kv", "get", {"key": "k"})
    assert receipt.status == TxStatus.UNKNOWN_TARGET
    assert receipt.error == "kv has no method 'get'; methods are ['delete', 'put']"


# ---------------------------------------------------------------------------------------
# rollback and gas
# ---------------------------------------------------------------------------------------


def test_failed_call_rolls_back_every_write(probe_world: Any, helpers: SimpleNamespace) -> None:
    env = probe_world.tx("writer_a", "probe", "fail_after_writes", {"n": 1})
    result = probe_world.run([env])
    (receipt,) = result.receipts
    assert receipt.status == TxStatus.FAILED
    assert receipt.error == "probe failed on purpose"
    assert receipt.events == []
    assert receipt.gas_used > intrinsic_gas(len(env.raw))
    assert result.changes == {nonce_key(helpers.address("writer_a")): encode(1)}
    assert b"probe/mine" not in probe_world.state
    assert b"kv/stolen" not in probe_world.state


def test_failure_does_not_undo_earlier_transactions(probe_world: Any) -> None:
    put = probe_world.tx("writer_a", "kv", "put", {"key": "kept", "value": "v"})
    fail = probe_world.tx("writer_a", "probe", "fail_after_writes", {"n": 1})
    put2 = probe_world.tx("writer_a", "kv", "put", {"key": "kept2", "value": "v"})
    result = probe_world.run([put, fail, put2])
    assert [r.status for r in result.receipts] == [TxStatus.OK, TxStatus.FAILED, TxStatus.OK]
    assert probe_world.read(b"kv/kept") == b"v"
    assert probe_world.read(b"kv/kept2") == b"v"
    assert probe_world.nonce("writer_a") == 3


def test_out_of_gas_before_the_write(world: Any, helpers: SimpleNamespace) -> None:
    env = world.tx_with_call_gas("writer_a", "kv", "put", {"key": "k", "value": "v"}, 50)
    result = world.run([env])
    (receipt,) = result.receipts
    limit = env.stx.tx.gas_limit
    assert receipt.status == TxStatus.OUT_OF_GAS
    assert receipt.error == f"out of gas (limit {limit})"
    assert receipt.gas_used == limit
    assert receipt.events == []
    assert result.changes == {nonce_key(helpers.address("writer_a")): encode(1)}


def test_out_of_gas_after_the_write_rolls_it_back(world: Any, helpers: SimpleNamespace) -> None:
    write_cost = GAS.write + GAS.write_byte * 2
    env = world.tx_with_call_gas("writer_a", "kv", "put", {"key": "k", "value": "v"}, write_cost)
    result = world.run([env])
    (receipt,) = result.receipts
    assert receipt.status == TxStatus.OUT_OF_GAS  # the event did not fit
    assert receipt.gas_used == env.stx.tx.gas_limit
    assert b"kv/k" not in world.state
    assert world.nonce("writer_a") == 1


def test_exact_gas_is_enough(world: Any, helpers: SimpleNamespace) -> None:
    writer = helpers.address("writer_a")
    call = kv_put_gas(0, "k", "v", writer) - intrinsic_gas(0)
    env = world.tx_with_call_gas("writer_a", "kv", "put", {"key": "k", "value": "v"}, call)
    (receipt,) = world.run([env]).receipts
    assert receipt.status == TxStatus.OK
    assert receipt.gas_used == env.stx.tx.gas_limit


def test_charge_beyond_limit_is_out_of_gas(probe_world: Any) -> None:
    env = probe_world.tx("writer_a", "probe", "burn", {"n": 10**7}, gas_limit=100_000)
    (receipt,) = probe_world.run([env]).receipts
    assert receipt.status == TxStatus.OUT_OF_GAS
    assert receipt.gas_used == 100_000
    assert b"probe/burnt" not in probe_world.state


def test_output_is_canonical_bytes(probe_world: Any) -> None:
    env = probe_world.tx("writer_a", "probe", "burn", {"n": 300})
    (receipt,) = probe_world.run([env]).receipts
    assert receipt.status == TxStatus.OK
    assert decode(receipt.output, int) == 300
    assert probe_world.read(b"probe/burnt") == b"1"


def test_gas_meter_caps_at_limit() -> None:
    meter = GasMeter(100, 90)
    meter.charge(10)
    assert meter.used == 100
    with pytest.raises(OutOfGas, match=r"out of gas \(limit 100\)") as info:
        meter.charge(1)
    assert info.value.status == TxStatus.OUT_OF_GAS
    assert meter.used == 100


def test_intrinsic_gas_schedule() -> None:
    assert intrinsic_gas(0) == GAS.tx_base == 1000
    assert intrinsic_gas(200) == 1000 + 10 * 200


# ---------------------------------------------------------------------------------------
# queries
# ---------------------------------------------------------------------------------------


def test_query_reads_committed_state(world: Any) -> None:
    world.call("writer_a", "kv", "put", {"key": "k", "value": "v"})
    assert world.query("kv", "get", {"key": "k"}) == "v"
    assert world.query("kv", "get", {"key": "missing"}) is None
    account = world.query("identity", "get_account", {"address": "0" * 40})
    assert account is None


def test_query_refusals(world: Any) -> None:
    with pytest.raises(QueryError, match=r"^unknown target 'nope'$"):
        world.query("nope", "get", {})
    with pytest.raises(QueryError, match=r"^kv has no query 'put'; queries are \['get'\]$"):
        world.query("kv", "put", {"key": "k", "value": "v"})
    with pytest.raises(QueryError, match=r"^bad arguments: cannot decode KeyArgs: "):
        world.query("kv", "get", {"key": 1})
    with pytest.raises(QueryError, match=r"^key must be 1-256 bytes$"):
        world.query("kv", "get", {"key": ""})


def test_query_cannot_write(probe_world: Any) -> None:
    probe_world.call("writer_a", "kv", "put", {"key": "k", "value": "v"})
    before = dict(probe_world.state)
    with pytest.raises(QueryError, match=r"^a read-only query cannot write state$"):
        probe_world.query("probe", "sneaky", {"n": 0})
    with pytest.raises(QueryError, match=r"^a read-only query cannot write state$"):
        probe_world.query("probe", "deleting", {"n": 0})
    assert probe_world.state == before


def test_query_args_must_be_canonical(world: Any) -> None:
    with pytest.raises(QueryError, match="not the canonical encoding of KeyArgs"):
        world.executor.query(world.read, "kv", "get", b"\x81\xa3key\xd9\x01k", 0, 0)


# ---------------------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------------------


def test_same_block_twice_gives_identical_results(probe_world: Any) -> None:
    txs = [
        probe_world.tx("writer_a", "kv", "put", {"key": "a", "value": "1"}),
        probe_world.tx("reader_a", "kv", "put", {"key": "b", "value": "2"}),
        probe_world.tx("writer_a", "probe", "fail_after_writes", {"n": 3}),
        probe_world.tx(
            "admin_a",
            "identity",
            "register_account",
            {"public_key": b"\x05" * 32, "name": "new", "roles": ["writer"]},
        ),
        probe_world.tx("writer_b", "kv", "delete", {"key": "a"}),
    ]
    first = probe_world.execute(txs)
    second = probe_world.execute(txs)
    assert first.receipts == second.receipts
    assert first.changes == second.changes
    assert list(first.changes) == list(second.changes)
    assert [encode(r) for r in first.receipts] == [encode(r) for r in second.receipts]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["writer_a", "writer_b", "reader_a", "admin_c"]),
        st.sampled_from(["put", "delete"]),
        st.sampled_from(["x", "y", "z"]),
        st.text(max_size=5),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(OPS, OPS)
def test_random_blocks_are_deterministic(
    helpers: SimpleNamespace, block1: list[Any], block2: list[Any]
) -> None:
    worlds = [helpers.World(), helpers.World()]
    for block in (block1, block2):
        results = []
        for w in worlds:
            txs = [
                w.tx(name, "kv", op, {"key": k, "value": v} if op == "put" else {"key": k})
                for name, op, k, v in block
            ]
            results.append(w.run(txs))
        assert results[0].receipts == results[1].receipts
        assert results[0].changes == results[1].changes
    assert worlds[0].state == worlds[1].state


def test_encode_args_and_record_encodings_agree_for_execution(world: Any) -> None:
    """Args built by encode_args (what the API does) decode into the app records."""
    args = encode_args({"public_key": b"\x07" * 32, "name": "n", "roles": ["reader"]})
    receipt = world.call("admin_a", "identity", "register_account", args)
    assert receipt.status == TxStatus.OK, receipt.error


def test_role_enum_values() -> None:
    assert [r.value for r in Role] == [
        "admin",
        "writer",
        "reader",
        "auditor",
        "validator",
        "deployer",
    ]


# ---------------------------------------------------------------------------------------
# admission: the call's static rules, checked before a transaction reaches a block


@pytest.mark.parametrize(
    ("name", "target", "method", "args", "reason", "message"),
    [
        ("reader_a", "kv", "put", {"key": "k", "value": "v"}, "permission_denied", "lacks role"),
        ("plain_a", "identity", "register_account", b"\x80", "permission_denied", "lacks role"),
        ("writer_a", "kv", "put", {"key": "k", "value": "x" * 20_000}, "args_too_large",
         "arguments of kv.put are 200"),
        ("writer_a", "kv", "put", {"key": "k", "value": "x" * 16_385}, "invalid_args",
         "value larger than 16384 bytes"),
        ("writer_a", "kv", "put", {"key": "k"}, "invalid_args", "bad arguments for kv.put"),
        ("writer_a", "kv", "put", {"key": "k", "value": 5}, "invalid_args", "bad arguments"),
        ("writer_a", "kv", "delete", {"key": ""}, "invalid_args", "key must be 1-256 bytes"),
        ("writer_a", "kv", "get", {"key": "k"}, "unknown_target", "kv has no method 'get'"),
        ("writer_a", "nope", "put", {}, "unknown_target", "unknown target 'nope'"),
        ("writer_a", "evidence", "anchor", {"digests": [], "category": "other",
         "submitter_ref": "", "parent": None, "meta": {}}, "invalid_args", "give 1-100000"),
    ],
)  # fmt: skip
def test_admission_refuses_calls_that_break_static_rules(
    world: Any, name: str, target: str, method: str, args: Any, reason: str, message: str
) -> None:
    env = world.tx(name, target, method, args, gas_limit=10**7)
    with pytest.raises(InvalidTransaction, match=message) as info:
        world.executor.admit(world.read, env, 1)
    assert info.value.reason == reason
    # Without admission (a faulty proposer) the call still fails in its receipt.
    (receipt,) = world.execute([env]).receipts
    assert receipt.status != TxStatus.OK


def test_admission_keeps_the_decoded_arguments_for_execution(world: Any) -> None:
    env = world.tx("writer_a", "kv", "put", {"key": "color", "value": "red"})
    admitted = world.executor.admit(world.read, env, 1)
    assert admitted.args is not None and admitted.args.value == "red"
    assert admitted[:4] == env[:4]
    # Execution uses the decoded record: same receipt as decoding again.
    assert world.execute([admitted]).receipts == world.execute([env]).receipts
    call = world.tx("writer_a", "c" + "0" * 40, "f", {})
    assert world.executor.admit(world.read, call, 1).args is None  # contracts decode later


def test_receipt_output_bytes_are_charged(world: Any, helpers: SimpleNamespace) -> None:
    # The same writes, with and without an output: kv.put returns nothing, a contract-free
    # identity call returns its new address (canonical str, 42 bytes), charged per byte.
    env = world.tx(
        "admin_a",
        "identity",
        "register_account",
        {"public_key": helpers.keypair("new").public_key, "name": "new", "roles": []},
    )
    (receipt,) = world.run([env]).receipts
    assert receipt.status == TxStatus.OK
    assert len(receipt.output) == 42
    # Pinned: gas is consensus. 5,885 for the call and its writes, plus 42 bytes of
    # output at GAS.output_byte (10): the bytes the receipt stores are not free.
    assert receipt.gas_used == 5885 + 42 * GAS.output_byte == 6305
