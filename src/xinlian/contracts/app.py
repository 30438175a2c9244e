"""The ``contracts`` system app: deploy, upgrade and inspect user contracts.

* ``deploy {source, init, upgrade_policy}`` needs the ``deployer`` role, which only
  governance grants (admin does not imply it). The source is checked and compiled; the
  contract gets the address derived from the deployer's address and the transaction's
  nonce; its ``init`` method, if exported, runs with ``init`` as arguments.
* ``upgrade {address, source}`` by the contract's owner, only when the contract was
  deployed with ``upgrade_policy="governance"`` and governance approved the new source's
  hash (action ``approve_contract_upgrade``); the approval is used up; storage stays.
* queries ``get {address}`` (metadata: owner, code hash, version, policy, methods),
  ``code {address}`` and ``address_of {deployer, nonce}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, cast

from msgspec import Struct

from xinlian.apps import identity
from xinlian.apps.base import CallContext, CallError, Method, StateView, require
from xinlian.apps.governance import CONTRACT_POLICY_PREFIX, CONTRACT_UPGRADE_PREFIX
from xinlian.codec import CodecError, decode, encode, encode_args
from xinlian.contracts.errors import ContractRejected
from xinlian.contracts.limits import CGAS, MAX_BYTES, MAX_SOURCE_BYTES
from xinlian.contracts.records import (
    DEPLOYER_ROLE,
    NAME,
    POLICIES,
    ContractMeta,
    code_key,
    contract_address,
    is_contract_address,
    meta_key,
    policy_key,
    upgrade_key,
)
from xinlian.contracts.runtime import (
    CODE_CACHE,
    ContractHost,
    ContractRuntime,
    abi_of,
    compile_source,
)
from xinlian.types import Event, TxStatus
from xinlian.types.genesis import Genesis

assert policy_key("x") == CONTRACT_POLICY_PREFIX + b"x"
assert upgrade_key("x") == CONTRACT_UPGRADE_PREFIX + b"x"

RUNTIME = ContractRuntime()


class DeployArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``contracts.deploy`` (all required, so the encoding is canonical).

    ``init`` holds the arguments of the contract's ``init`` method (``{}`` for none);
    ``upgrade_policy`` is ``"immutable"`` or ``"governance"``.
    """

    source: str
    init: dict[str, Any]
    upgrade_policy: str


class UpgradeArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``contracts.upgrade``."""

    address: str
    source: str


class AddressArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments naming one contract."""

    address: str


class AddressOfArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``contracts.address_of``."""

    deployer: str
    nonce: int


def _host(ctx: CallContext) -> ContractHost:
    return cast(ContractHost, ctx)


def _compile(ctx: CallContext, source: str) -> Any:
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:  # refuse before charging for it
        raise ContractRejected(f"source is {size} bytes, limit {MAX_SOURCE_BYTES}")
    ctx.charge(CGAS.deploy_byte * size)
    return compile_source(source)


def deploy(ctx: CallContext, args: DeployArgs) -> str:
    """Deploy a contract; returns its address."""
    account = identity.load_account(
        ctx.state.app_state(identity.NAME).get(identity.account_key(ctx.sender_address))
    )
    require(
        account is not None and DEPLOYER_ROLE in account.roles,
        f"account {ctx.sender_address} lacks the {DEPLOYER_ROLE!r} role "
        "(granted by governance) needed to deploy contracts",
        TxStatus.PERMISSION_DENIED,
    )
    require(
        args.upgrade_policy in POLICIES,
        f"upgrade_policy must be one of {list(POLICIES)}",
        TxStatus.INVALID_ARGS,
    )
    try:
        init_args = encode_args(args.init)
    except CodecError as exc:
        raise CallError(f"bad init arguments: {exc}", TxStatus.INVALID_ARGS) from None
    compiled = _compile(ctx, args.source)
    host = _host(ctx)
    source = args.source.encode()
    code_hash = ctx.suite.hash(source)
    CODE_CACHE.put(code_hash, compiled, len(args.source))
    address = contract_address(ctx.suite, ctx.sender_address, host.nonce)
    require(ctx.state.get(meta_key(address)) is None, f"contract {address} exists")
    meta = ContractMeta(
        address,
        ctx.sender_address,
        code_hash,
        1,
        args.upgrade_policy,
        ctx.height,
        abi_of(compiled.methods),
    )
    ctx.state.put(meta_key(address), encode(meta))
    if ctx.state.get(code_key(code_hash)) is None:
        ctx.state.put(code_key(code_hash), source)
    ctx.state.put(policy_key(address), encode(args.upgrade_policy))
    init = next((m for m in meta.methods if m.name == "init"), None)
    if init is None:
        require(not args.init, "the contract exports no init method", TxStatus.INVALID_ARGS)
    kwargs = {} if init is None else RUNTIME._arguments(init, init_args, f"{address}.init")
    # Run the module body (and init): declarations that fail refuse the deploy.
    RUNTIME.run(
        host,
        meta,
        "" if init is None else "init",
        kwargs,
        sender=ctx.sender_address,
        readonly=False,
        compiled=compiled,
    )
    ctx.emit(
        Event(
            "contracts.deployed",
            {"address": address, "owner": ctx.sender_address, "code_hash": code_hash.hex()},
        )
    )
    return address


def upgrade(ctx: CallContext, args: UpgradeArgs) -> int:
    """Replace a contract's code with governance-approved source; returns the new version."""
    meta = _meta(ctx, args.address)
    require(
        meta.owner == ctx.sender_address,
        f"only the owner {meta.owner} may upgrade {args.address}",
        TxStatus.PERMISSION_DENIED,
    )
    require(
        meta.policy == "governance",
        f"contract {args.address} is immutable",
        TxStatus.PERMISSION_DENIED,
    )
    source = args.source.encode()
    code_hash = ctx.suite.hash(source)
    approved = ctx.state.get(upgrade_key(args.address))
    require(
        approved == code_hash,
        f"governance has not approved code hash {code_hash.hex()} for {args.address}",
        TxStatus.PERMISSION_DENIED,
    )
    compiled = _compile(ctx, args.source)
    CODE_CACHE.put(code_hash, compiled, len(args.source))
    new = ContractMeta(
        meta.address,
        meta.owner,
        code_hash,
        meta.version + 1,
        meta.policy,
        meta.created,
        abi_of(compiled.methods),
    )
    ctx.state.put(meta_key(args.address), encode(new))
    if ctx.state.get(code_key(code_hash)) is None:
        ctx.state.put(code_key(code_hash), source)
    ctx.state.delete(upgrade_key(args.address))
    ctx.emit(
        Event(
            "contracts.upgraded",
            {"address": args.address, "code_hash": code_hash.hex(), "version": str(new.version)},
        )
    )
    return new.version


def _meta(ctx: CallContext, address: str) -> ContractMeta:
    require(
        is_contract_address(address),
        f"{address!r} is not a contract address",
        TxStatus.INVALID_ARGS,
    )
    raw = ctx.state.get(meta_key(address))
    require(raw is not None, f"no contract at {address}", TxStatus.INVALID_ARGS)
    assert raw is not None
    return decode(raw, ContractMeta)


def get(ctx: CallContext, args: AddressArgs) -> ContractMeta | None:
    """A contract's metadata (owner, code hash, version, policy, methods), or None."""
    raw = ctx.state.get(meta_key(args.address))
    return None if raw is None else decode(raw, ContractMeta)


def code(ctx: CallContext, args: AddressArgs) -> str | None:
    """A contract's current source, or None."""
    meta = get(ctx, args)
    if meta is None:
        return None
    raw = ctx.state.get(code_key(meta.code_hash))
    return None if raw is None else raw.decode()


def address_of(ctx: CallContext, args: AddressOfArgs) -> str:
    """The address a deploy by ``deployer`` with transaction nonce ``nonce`` gets."""
    return contract_address(ctx.suite, args.deployer, args.nonce)


class ContractsApp:
    """Deployment, upgrade and inspection of user contracts."""

    name = NAME
    methods: ClassVar[Mapping[str, Method]] = {
        "deploy": Method(deploy, DeployArgs, None, max_args=MAX_SOURCE_BYTES + MAX_BYTES),
        "upgrade": Method(upgrade, UpgradeArgs, None, max_args=MAX_SOURCE_BYTES + 1024),
        "get": Method(get, AddressArgs, None, readonly=True),
        "code": Method(code, AddressArgs, None, readonly=True),
        "address_of": Method(address_of, AddressOfArgs, None, readonly=True),
    }

    def init_genesis(self, state: StateView, genesis: Genesis) -> None:
        """No contracts at genesis."""


__all__ = ["CODE_CACHE", "RUNTIME", "ContractRejected", "ContractsApp"]
