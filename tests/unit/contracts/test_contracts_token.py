"""Deploy and call the example token through execution: results, events, gas, reverts."""

from __future__ import annotations

from typing import Any

import pytest

from xinlian.codec import decode
from xinlian.contracts import contract_address
from xinlian.execution import QueryError
from xinlian.types import TxStatus


def _token(cw: Any) -> str:
    return cw.example("token", {"name": "Bolt", "symbol": "BLT", "total": 1_000_000})


def test_deploy_address_code_hash_and_metadata(cw: Any) -> None:
    nonce = cw.nonce("dev_a")
    address = _token(cw)
    dev = cw.helpers.address("dev_a")
    assert address == contract_address(cw.helpers.SUITE, dev, nonce)
    assert cw.query("contracts", "address_of", {"deployer": dev, "nonce": nonce}) == address
    meta = cw.query("contracts", "get", {"address": address})
    code = cw.query("contracts", "code", {"address": address})
    assert code == (cw.EXAMPLES / "token.py").read_text()
    assert meta.code_hash == cw.helpers.SUITE.hash(code.encode())
    assert meta.owner == dev and meta.version == 1 and meta.policy == "immutable"
    methods = {m.name: m for m in meta.methods}
    assert sorted(methods) == [
        "allowance",
        "approve",
        "balance_of",
        "info",
        "init",
        "transfer",
        "transfer_from",
    ]
    assert [(p.name, p.type) for p in methods["transfer"].params] == [
        ("to", "str"),
        ("amount", "int"),
    ]
    assert methods["balance_of"].readonly and not methods["transfer"].readonly
    assert cw.query(address, "info", {}) == {"name": "Bolt", "symbol": "BLT", "supply": 1_000_000}
    assert cw.query(address, "balance_of", {"owner": dev}) == 1_000_000


def test_transfer_moves_balances_and_emits_an_event(cw: Any) -> None:
    address = _token(cw)
    dev, bob = cw.helpers.address("dev_a"), cw.helpers.address("writer_b")
    receipt = cw.call("dev_a", address, "transfer", {"to": bob, "amount": 250})
    assert cw.output(receipt) is True
    assert cw.query(address, "balance_of", {"owner": bob}) == 250
    assert cw.query(address, "balance_of", {"owner": dev}) == 999_750
    (event,) = receipt.events
    assert event.type == f"{address}.Transfer"
    assert event.attributes == {"contract": address, "sender": dev, "to": bob, "amount": "250"}


def test_failed_require_reverts_every_write_but_consumes_the_nonce(cw: Any) -> None:
    address = _token(cw)
    bob = cw.helpers.address("writer_b")
    before = dict(cw.state)
    receipt = cw.call("writer_b", address, "transfer", {"to": bob, "amount": 1})
    assert receipt.status == TxStatus.FAILED
    assert receipt.error == "insufficient balance"
    assert receipt.events == []
    changed = {k for k in set(before) | set(cw.state) if before.get(k) != cw.state.get(k)}
    assert changed == {b"nonce/" + bob.encode()}


def test_out_of_gas_reverts_the_writes(cw: Any) -> None:
    address = _token(cw)
    bob = cw.helpers.address("writer_b")
    args = {"to": bob, "amount": 5}
    full = cw.call("dev_a", address, "transfer", args)
    assert full.status == TxStatus.OK
    env = cw.tx_with_call_gas("dev_a", address, "transfer", args, 3000)
    (receipt,) = cw.run([env]).receipts
    assert receipt.status == TxStatus.OUT_OF_GAS
    assert receipt.gas_used == env.stx.tx.gas_limit
    assert cw.query(address, "balance_of", {"owner": bob}) == 5


def test_transfer_gas_is_pinned(cw: Any) -> None:
    # Gas is consensus: a change here changes every node's receipts. Update it only with
    # a deliberate change of the gas table or the instrumentation.
    address = _token(cw)
    bob = cw.helpers.address("writer_b")
    receipt = cw.call("dev_a", address, "transfer", {"to": bob, "amount": 7})
    again = cw.call("dev_a", address, "transfer", {"to": bob, "amount": 7})
    assert receipt.status == again.status == TxStatus.OK
    # 10,400 for the call and its state, plus GAS.output_byte for the one byte of its
    # output (``True``) that the receipt stores.
    assert receipt.gas_used == 10410
    # The second reads bob's balance (one byte of canonical encoding) where the first
    # found nothing: exactly GAS.read_byte more.
    assert again.gas_used == 10411


def test_allowances_with_tuple_keys(cw: Any) -> None:
    address = _token(cw)
    dev, bob, carol = (cw.helpers.address(n) for n in ("dev_a", "writer_b", "admin_c"))
    cw.output(cw.call("dev_a", address, "approve", {"spender": bob, "amount": 100}))
    assert cw.query(address, "allowance", {"owner": dev, "spender": bob}) == 100
    r = cw.call("writer_b", address, "transfer_from", {"owner": dev, "to": carol, "amount": 60})
    cw.output(r)
    r = cw.call("writer_b", address, "transfer_from", {"owner": dev, "to": carol, "amount": 60})
    assert (r.status, r.error) == (TxStatus.FAILED, "allowance exceeded")
    assert cw.query(address, "balance_of", {"owner": carol}) == 60


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"to": "x"}, "is missing argument(s) ['amount']"),
        ({"to": "x", "amount": "5"}, "argument 'amount' of"),
        ({"to": "x", "amount": True}, "argument 'amount' of"),
        ({"to": "x", "amount": 1, "memo": "hi"}, "has no parameter(s) ['memo']"),
    ],
)
def test_arguments_are_checked_against_the_interface(
    cw: Any, args: dict[str, Any], message: str
) -> None:
    address = _token(cw)
    receipt = cw.call("dev_a", address, "transfer", args)
    assert receipt.status == TxStatus.INVALID_ARGS
    assert message in receipt.error


def test_unknown_contract_and_method(cw: Any) -> None:
    address = _token(cw)
    receipt = cw.call("dev_a", address, "mint", {})
    assert receipt.status == TxStatus.UNKNOWN_TARGET
    assert "has no method 'mint'" in receipt.error
    nobody = "c" + "0" * 40
    receipt = cw.call("dev_a", nobody, "transfer", {})
    assert (receipt.status, receipt.error) == (TxStatus.UNKNOWN_TARGET, f"no contract at {nobody}")


def test_queries_run_views_only_and_never_write(cw: Any) -> None:
    address = _token(cw)
    with pytest.raises(QueryError, match="has no view method 'transfer'"):
        cw.query(address, "transfer", {"to": "x", "amount": 1})
    with pytest.raises(QueryError, match="bad arguments"):
        cw.world.executor.query(cw.read, address, "balance_of", b"\xc1", 1, 0)


def test_deploy_needs_the_governed_deployer_role(cw: Any) -> None:
    source = "@view\ndef f() -> int:\n    return 1\n"
    for who in ("writer_a", "admin_a"):
        receipt = cw.deploy_receipt(source, who=who)
        assert receipt.status == TxStatus.PERMISSION_DENIED
        assert "lacks the 'deployer' role (granted by governance)" in receipt.error
    # An organisation admin cannot grant it either: only governance can.
    writer = cw.helpers.address("writer_a")
    r = cw.call("admin_a", "identity", "grant_role", {"address": writer, "role": "deployer"})
    assert r.status != TxStatus.OK
    from xinlian.codec import encode_args

    params = encode_args({"address": writer, "role": "deployer"})
    r = cw.call("admin_a", "governance", "propose", {"action": "grant_role", "params": params})
    pid = decode(r.output, int)
    cw.call("admin_b", "governance", "vote", {"id": pid})
    r = cw.call("admin_c", "governance", "vote", {"id": pid})
    assert decode(r.output, str) == "passed"
    assert cw.deploy_receipt(source, who="writer_a").status == TxStatus.OK


def test_init_runs_only_at_deploy(cw: Any) -> None:
    address = _token(cw)
    receipt = cw.call("dev_a", address, "init", {"name": "X", "symbol": "X", "total": 10**12})
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert receipt.error == f"init of {address} runs only once, when the contract is deployed"
    assert cw.query(address, "info", {})["supply"] == 1_000_000
    with pytest.raises(QueryError, match="runs only once"):
        cw.query(address, "init", {})


def test_queries_have_their_own_gas_cap(cw: Any) -> None:
    address = cw.deploy(
        "from contract import view\n\n\n@view\ndef spin() -> int:\n"
        "    i = 0\n    while True:\n        i += 1\n    return i\n"
    )
    with pytest.raises(QueryError, match=r"out of gas \(limit 2000000\)"):
        cw.query(address, "spin", {})


def test_floats_in_arguments_are_refused_even_where_untyped(cw: Any) -> None:
    import msgspec

    address = cw.deploy(
        "from contract import export\n\n\n@export\ndef take(items: list) -> int:\n"
        "    return len(items)\n"
    )
    raw = msgspec.msgpack.encode({"items": [1.5]})
    receipt = cw.call("dev_a", address, "take", raw)
    assert receipt.status == TxStatus.INVALID_ARGS
    assert "floats are not allowed" in receipt.error
    assert cw.output(cw.call("dev_a", address, "take", {"items": [1, 2]})) == 2
