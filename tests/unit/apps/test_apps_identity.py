"""The identity app: accounts within an organisation, roles, deactivation, genesis."""

from __future__ import annotations

from hashlib import sha256
from types import SimpleNamespace
from typing import Any

import pytest

from xinlian.apps import AppError, identity
from xinlian.codec import decode
from xinlian.crypto import get_suite
from xinlian.execution import InvalidBlock, Mode
from xinlian.types import Event, TxStatus
from xinlian.types.genesis import GenesisAccount, GenesisOrg

SUITE = get_suite("ed25519")
ALL_ROLES = "['admin', 'auditor', 'deployer', 'reader', 'validator', 'writer']"


def register(world: Any, admin: str, key_name: str, roles: list[str], name: str = "acct") -> Any:
    """``admin`` registers the deterministic key ``key_name`` (see conftest.keypair)."""
    public_key = SUITE.keypair_from_private(sha256(key_name.encode()).digest()).public_key
    return world.call(
        admin,
        "identity",
        "register_account",
        {"public_key": public_key, "name": name, "roles": roles},
    )


# ---------------------------------------------------------------------------------------
# register_account
# ---------------------------------------------------------------------------------------


def test_register_account_in_own_org(world: Any, helpers: SimpleNamespace) -> None:
    receipt = register(world, "admin_a", "newbie", ["writer", "reader", "writer"], "Newbie")
    addr = helpers.address("newbie")
    assert receipt.status == TxStatus.OK, receipt.error
    assert decode(receipt.output, str) == addr
    assert receipt.events == [Event("identity.account_registered", {"address": addr, "org": "a"})]
    assert world.account(addr) == identity.Account(
        addr, helpers.keypair("newbie").public_key, "Newbie", "a", ["reader", "writer"], True
    )
    # the new account can transact with its role straight away
    assert world.call("newbie", "kv", "put", {"key": "k", "value": "v"}).status == TxStatus.OK


def test_account_lands_in_the_admins_org(world: Any, helpers: SimpleNamespace) -> None:
    assert register(world, "admin_b", "bee", []).status == TxStatus.OK
    assert world.account(helpers.address("bee")).org == "b"


@pytest.mark.parametrize("role", ["auditor", "validator"])
def test_register_with_governed_role_is_refused(world: Any, role: str) -> None:
    receipt = register(world, "admin_a", "x", ["reader", role])
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert receipt.error == f"role {role!r} is granted by a governance proposal"


@pytest.mark.parametrize(
    ("args", "status", "error"),
    [
        (
            {"public_key": b"\x01" * 31, "name": "x", "roles": []},
            TxStatus.INVALID_ARGS,
            "public key must be 32 bytes for this chain",
        ),
        (
            {"public_key": b"\x01" * 32, "name": "", "roles": []},
            TxStatus.INVALID_ARGS,
            "name must be 1-128 characters",
        ),
        (
            {"public_key": b"\x01" * 32, "name": "n" * 129, "roles": []},
            TxStatus.INVALID_ARGS,
            "name must be 1-128 characters",
        ),
        (
            {"public_key": b"\x01" * 32, "name": "x", "roles": ["boss"]},
            TxStatus.INVALID_ARGS,
            f"unknown role 'boss'; roles are {ALL_ROLES}",
        ),
    ],
)
def test_register_account_validation(world: Any, args: Any, status: int, error: str) -> None:
    receipt = world.call("admin_a", "identity", "register_account", args)
    assert (receipt.status, receipt.error) == (status, error)


def test_register_name_of_128_is_fine(world: Any) -> None:
    assert register(world, "admin_a", "long", [], "n" * 128).status == TxStatus.OK


def test_register_existing_account_is_refused(world: Any, helpers: SimpleNamespace) -> None:
    receipt = register(world, "admin_a", "writer_b", [])
    assert receipt.status == TxStatus.INVALID_ARGS
    assert receipt.error == f"account {helpers.address('writer_b')} already exists"
    assert world.account(helpers.address("writer_b")).org == "b"


def test_only_admins_register(world: Any, helpers: SimpleNamespace) -> None:
    receipt = register(world, "writer_a", "x", [])
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert "lacks role 'admin' for identity.register_account" in receipt.error


# ---------------------------------------------------------------------------------------
# grant / revoke
# ---------------------------------------------------------------------------------------


def test_grant_role_within_org(world: Any, helpers: SimpleNamespace) -> None:
    reader = helpers.address("reader_a")
    assert world.call("reader_a", "kv", "put", {"key": "k", "value": "v"}).status == (
        TxStatus.PERMISSION_DENIED
    )
    receipt = world.call("admin_a", "identity", "grant_role", {"address": reader, "role": "writer"})
    assert receipt.status == TxStatus.OK
    assert receipt.events == [Event("identity.role_granted", {"address": reader, "role": "writer"})]
    assert world.account(reader).roles == ["reader", "writer"]
    assert world.call("reader_a", "kv", "put", {"key": "k", "value": "v"}).status == TxStatus.OK


def test_grant_held_role_is_idempotent(world: Any, helpers: SimpleNamespace) -> None:
    reader = helpers.address("reader_a")
    receipt = world.call("admin_a", "identity", "grant_role", {"address": reader, "role": "reader"})
    assert receipt.status == TxStatus.OK
    assert world.account(reader).roles == ["reader"]


@pytest.mark.parametrize("role", ["auditor", "validator"])
def test_grant_governed_role_is_refused(world: Any, helpers: SimpleNamespace, role: str) -> None:
    addr = helpers.address("writer_a")
    receipt = world.call("admin_a", "identity", "grant_role", {"address": addr, "role": role})
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert receipt.error == f"role {role!r} is granted by a governance proposal"
    assert world.account(addr).roles == ["writer"]


def test_grant_unknown_role(world: Any, helpers: SimpleNamespace) -> None:
    addr = helpers.address("writer_a")
    receipt = world.call("admin_a", "identity", "grant_role", {"address": addr, "role": "boss"})
    assert receipt.status == TxStatus.INVALID_ARGS
    assert receipt.error == f"unknown role 'boss'; roles are {ALL_ROLES}"


@pytest.mark.parametrize("method", ["grant_role", "revoke_role"])
def test_cannot_touch_another_orgs_account(
    world: Any, helpers: SimpleNamespace, method: str
) -> None:
    target = helpers.address("writer_b")
    receipt = world.call("admin_a", "identity", method, {"address": target, "role": "writer"})
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert receipt.error == f"account {target} belongs to organisation 'b', not 'a'"
    assert world.account(target).roles == ["writer"]


def test_cannot_deactivate_another_orgs_account(world: Any, helpers: SimpleNamespace) -> None:
    target = helpers.address("writer_b")
    receipt = world.call("admin_a", "identity", "deactivate_account", {"address": target})
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert world.account(target).active


def test_grant_to_missing_account(world: Any) -> None:
    receipt = world.call(
        "admin_a", "identity", "grant_role", {"address": "ab" * 20, "role": "writer"}
    )
    assert receipt.status == TxStatus.INVALID_ARGS
    assert receipt.error == f"no account {'ab' * 20}"


def test_revoke_role(world: Any, helpers: SimpleNamespace) -> None:
    writer = helpers.address("writer_a")
    receipt = world.call(
        "admin_a", "identity", "revoke_role", {"address": writer, "role": "writer"}
    )
    assert receipt.status == TxStatus.OK
    assert receipt.events == [Event("identity.role_revoked", {"address": writer, "role": "writer"})]
    assert world.account(writer).roles == []
    denied = world.call("writer_a", "kv", "put", {"key": "k", "value": "v"})
    assert denied.status == TxStatus.PERMISSION_DENIED


def test_revoke_role_not_held(world: Any, helpers: SimpleNamespace) -> None:
    writer = helpers.address("writer_a")
    receipt = world.call("admin_a", "identity", "revoke_role", {"address": writer, "role": "admin"})
    assert receipt.status == TxStatus.INVALID_ARGS
    assert receipt.error == f"account {writer} has no role 'admin'"


# ---------------------------------------------------------------------------------------
# deactivation
# ---------------------------------------------------------------------------------------


def test_deactivated_account_is_refused(world: Any, helpers: SimpleNamespace) -> None:
    writer = helpers.address("writer_a")
    receipt = world.call("admin_a", "identity", "deactivate_account", {"address": writer})
    assert receipt.status == TxStatus.OK
    assert receipt.events == [Event("identity.account_deactivated", {"address": writer})]
    assert world.account(writer).active is False
    env = world.tx("writer_a")
    with pytest.raises(InvalidBlock, match=f"sender {writer} is deactivated$"):
        world.execute([env])
    assert world.execute([env], Mode.BUILD).dropped == [(env, f"sender {writer} is deactivated")]


def test_admin_cannot_deactivate_itself(world: Any, helpers: SimpleNamespace) -> None:
    admin = helpers.address("admin_a")
    receipt = world.call("admin_a", "identity", "deactivate_account", {"address": admin})
    assert receipt.status == TxStatus.INVALID_ARGS
    assert receipt.error == "an admin cannot deactivate itself"
    assert world.account(admin).active


# ---------------------------------------------------------------------------------------
# queries
# ---------------------------------------------------------------------------------------


def test_queries(world: Any, helpers: SimpleNamespace) -> None:
    addr = helpers.address("reader_a")
    account = world.query("identity", "get_account", {"address": addr})
    assert account == world.account(addr)
    assert world.query("identity", "get_org", {"id": "b"}) == identity.Org("b", "Org B", True)
    assert world.query("identity", "get_org", {"id": "zz"}) is None


def test_store_keys() -> None:
    assert identity.org_key("a") == b"org/a"
    assert identity.account_key("ab") == b"acct/ab"
    assert identity.load_account(None) is None
    assert identity.load_org(None) is None


# ---------------------------------------------------------------------------------------
# genesis
# ---------------------------------------------------------------------------------------


def _genesis_error(helpers: SimpleNamespace, **changes: Any) -> str:
    import msgspec

    genesis = msgspec.structs.replace(helpers.make_genesis(), **changes)
    with pytest.raises(AppError) as info:
        helpers.World(genesis)
    return str(info.value)


def test_genesis_duplicate_org(helpers: SimpleNamespace) -> None:
    orgs = [GenesisOrg("a", "A"), GenesisOrg("a", "A again")]
    assert _genesis_error(helpers, orgs=orgs, accounts=[]) == "genesis: duplicate organisation 'a'"


def test_genesis_account_in_unknown_org(helpers: SimpleNamespace) -> None:
    accounts = [GenesisAccount("x", "00" * 32, "zz", [])]
    assert _genesis_error(helpers, accounts=accounts) == (
        "genesis: account 'x' names unknown org 'zz'"
    )


def test_genesis_unknown_role(helpers: SimpleNamespace) -> None:
    accounts = [GenesisAccount("x", "00" * 32, "a", ["boss"])]
    assert _genesis_error(helpers, accounts=accounts) == (
        "genesis: account 'x' has unknown roles {'boss'}"
    )


def test_genesis_bad_key(helpers: SimpleNamespace) -> None:
    accounts = [GenesisAccount("x", "00" * 31, "a", [])]
    assert _genesis_error(helpers, accounts=accounts) == (
        "genesis: account 'x' key is not a ed25519 key"
    )


def test_genesis_roles_are_sorted_and_unique(helpers: SimpleNamespace) -> None:
    key = helpers.keypair("multi").public_key.hex()
    genesis = helpers.make_genesis(accounts=[("multi", "a", ["writer", "admin", "writer"])])
    world = helpers.World(genesis)
    assert world.account(helpers.address("multi")).roles == ["admin", "writer"]
    assert world.account(helpers.address("multi")).public_key.hex() == key


@pytest.mark.parametrize("role", ["auditor", "validator"])
def test_org_admin_cannot_revoke_governed_roles(
    world: Any, helpers: SimpleNamespace, role: str
) -> None:
    writer = helpers.address("writer_a")
    receipt = world.call("admin_a", "identity", "revoke_role", {"address": writer, "role": role})
    assert receipt.status == TxStatus.PERMISSION_DENIED
    assert receipt.error == f"role {role!r} is revoked by a governance proposal"
