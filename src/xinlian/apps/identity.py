"""The ``identity`` app: organisations, accounts and their roles.

State layout (under ``identity/``)::

    org/<org id>        -> Org
    acct/<address>      -> Account

An organisation's admins register accounts for their own organisation and grant or
revoke roles on them. Organisations themselves are added and removed by governance.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import ClassVar

from msgspec import Struct

from xinlian.apps.base import AppError, CallContext, CallError, Method, Role, StateView, require
from xinlian.codec import decode, encode
from xinlian.crypto import address_of, get_suite
from xinlian.types import Event, TxStatus
from xinlian.types.genesis import Genesis

NAME = "identity"
ROLE_NAMES = frozenset(r.value for r in Role)
#: Roles only governance may grant, because they reach across organisations.
GOVERNED_ROLES = frozenset({Role.AUDITOR.value, Role.VALIDATOR.value, Role.DEPLOYER.value})


class Org(Struct, array_like=True, frozen=True):
    """A member organisation."""

    id: str
    name: str
    active: bool


class Account(Struct, array_like=True, frozen=True):
    """An account: its key, organisation and roles (sorted)."""

    address: str
    public_key: bytes
    name: str
    org: str
    roles: list[str]
    active: bool


def org_key(org_id: str) -> bytes:
    """State key (within the app) of an organisation."""
    return b"org/" + org_id.encode()


def account_key(address: str) -> bytes:
    """State key (within the app) of an account."""
    return b"acct/" + address.encode()


def load_account(raw: bytes | None) -> Account | None:
    """Decode a stored account record (cached: every transaction reads its sender's)."""
    return None if raw is None else _decode_account(raw)


def load_org(raw: bytes | None) -> Org | None:
    """Decode a stored organisation record (cached like accounts)."""
    return None if raw is None else _decode_org(raw)


# Records are frozen, so one decoded instance can serve every reader of the same bytes.
@lru_cache(maxsize=65536)
def _decode_account(raw: bytes) -> Account:
    return decode(raw, Account)


@lru_cache(maxsize=1024)
def _decode_org(raw: bytes) -> Org:
    return decode(raw, Org)


def _check_roles(roles: list[str]) -> list[str]:
    for role in roles:
        require(
            role in ROLE_NAMES,
            f"unknown role {role!r}; roles are {sorted(ROLE_NAMES)}",
            TxStatus.INVALID_ARGS,
        )
    return sorted(set(roles))


class RegisterAccountArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``identity.register_account``."""

    public_key: bytes
    name: str
    roles: list[str]


class RoleArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``identity.grant_role`` and ``identity.revoke_role``."""

    address: str
    role: str


class AddressArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments naming one account."""

    address: str


class OrgArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments naming one organisation."""

    id: str


def _caller(ctx: CallContext) -> Account:
    account = load_account(ctx.state.get(account_key(ctx.sender_address)))
    if account is None:  # execution checks this first; kept for direct calls
        raise CallError("unknown sender", TxStatus.PERMISSION_DENIED)
    return account


def _same_org_account(ctx: CallContext, address: str) -> Account:
    admin = _caller(ctx)
    account = load_account(ctx.state.get(account_key(address)))
    require(account is not None, f"no account {address}", TxStatus.INVALID_ARGS)
    assert account is not None
    require(
        account.org == admin.org,
        f"account {address} belongs to organisation {account.org!r}, not {admin.org!r}",
        TxStatus.PERMISSION_DENIED,
    )
    return account


def register_account(ctx: CallContext, args: RegisterAccountArgs) -> str:
    """Create an account in the caller's organisation; returns its address."""
    admin = _caller(ctx)
    suite = ctx.suite
    require(
        len(args.public_key) == suite.public_key_size,
        f"public key must be {suite.public_key_size} bytes for this chain",
        TxStatus.INVALID_ARGS,
    )
    require(0 < len(args.name) <= 128, "name must be 1-128 characters", TxStatus.INVALID_ARGS)
    roles = _check_roles(args.roles)
    for role in roles:
        require(
            role not in GOVERNED_ROLES,
            f"role {role!r} is granted by a governance proposal",
            TxStatus.PERMISSION_DENIED,
        )
    address = address_of(suite, args.public_key)
    require(
        ctx.state.get(account_key(address)) is None,
        f"account {address} already exists",
        TxStatus.INVALID_ARGS,
    )
    account = Account(address, args.public_key, args.name, admin.org, roles, True)
    ctx.state.put(account_key(address), encode(account))
    ctx.emit(Event("identity.account_registered", {"address": address, "org": admin.org}))
    return address


def grant_role(ctx: CallContext, args: RoleArgs) -> None:
    """Give a role to an account of the caller's organisation."""
    account = _same_org_account(ctx, args.address)
    (role,) = _check_roles([args.role])
    require(
        role not in GOVERNED_ROLES,
        f"role {role!r} is granted by a governance proposal",
        TxStatus.PERMISSION_DENIED,
    )
    roles = sorted({*account.roles, role})
    ctx.state.put(account_key(account.address), encode(_with_roles(account, roles)))
    ctx.emit(Event("identity.role_granted", {"address": account.address, "role": role}))


def revoke_role(ctx: CallContext, args: RoleArgs) -> None:
    """Take a role away from an account of the caller's organisation."""
    account = _same_org_account(ctx, args.address)
    require(
        args.role not in GOVERNED_ROLES,
        f"role {args.role!r} is revoked by a governance proposal",
        TxStatus.PERMISSION_DENIED,
    )
    require(
        args.role in account.roles,
        f"account {account.address} has no role {args.role!r}",
        TxStatus.INVALID_ARGS,
    )
    roles = [r for r in account.roles if r != args.role]
    ctx.state.put(account_key(account.address), encode(_with_roles(account, roles)))
    ctx.emit(Event("identity.role_revoked", {"address": account.address, "role": args.role}))


def deactivate_account(ctx: CallContext, args: AddressArgs) -> None:
    """Disable an account of the caller's organisation (its transactions are refused)."""
    account = _same_org_account(ctx, args.address)
    require(
        account.address != ctx.sender_address,
        "an admin cannot deactivate itself",
        TxStatus.INVALID_ARGS,
    )
    ctx.state.put(
        account_key(account.address),
        encode(
            Account(
                account.address, account.public_key, account.name, account.org, account.roles, False
            )
        ),
    )
    ctx.emit(Event("identity.account_deactivated", {"address": account.address}))


def get_account(ctx: CallContext, args: AddressArgs) -> Account | None:
    """Read an account record."""
    return load_account(ctx.state.get(account_key(args.address)))


def get_org(ctx: CallContext, args: OrgArgs) -> Org | None:
    """Read an organisation record."""
    return load_org(ctx.state.get(org_key(args.id)))


def _with_roles(account: Account, roles: list[str]) -> Account:
    return Account(
        account.address, account.public_key, account.name, account.org, roles, account.active
    )


class IdentityApp:
    """Organisations, accounts and roles."""

    name = NAME
    methods: ClassVar[Mapping[str, Method]] = {
        "register_account": Method(register_account, RegisterAccountArgs, Role.ADMIN),
        "grant_role": Method(grant_role, RoleArgs, Role.ADMIN),
        "revoke_role": Method(revoke_role, RoleArgs, Role.ADMIN),
        "deactivate_account": Method(deactivate_account, AddressArgs, Role.ADMIN),
        "get_account": Method(get_account, AddressArgs, None, readonly=True),
        "get_org": Method(get_org, OrgArgs, None, readonly=True),
    }

    def init_genesis(self, state: StateView, genesis: Genesis) -> None:
        """Create the genesis organisations and accounts."""
        suite = get_suite(genesis.suite)
        org_ids = set()
        for org in genesis.orgs:
            if org.id in org_ids:
                raise AppError(f"genesis: duplicate organisation {org.id!r}")
            org_ids.add(org.id)
            state.put(org_key(org.id), encode(Org(org.id, org.name, True)))
        for acct in genesis.accounts:
            if acct.org not in org_ids:
                raise AppError(f"genesis: account {acct.name!r} names unknown org {acct.org!r}")
            unknown = set(acct.roles) - ROLE_NAMES
            if unknown:
                raise AppError(f"genesis: account {acct.name!r} has unknown roles {unknown}")
            public_key = bytes.fromhex(acct.public_key)
            if len(public_key) != suite.public_key_size:
                raise AppError(f"genesis: account {acct.name!r} key is not a {suite.name} key")
            address = address_of(suite, public_key)
            record = Account(
                address, public_key, acct.name, acct.org, sorted(set(acct.roles)), True
            )
            state.put(account_key(address), encode(record))
