"""The ``governance`` app: proposals decided by more than two thirds of member organisations.

Any organisation admin may propose; each active organisation has one vote, cast by one of
its admins. A proposal passes, and its action is applied in the same transaction, as soon
as the yes votes are more than two thirds of the active organisations. It expires unvoted
after ``VOTING_PERIOD`` blocks.

Actions (``action`` and its ``params``)::

    add_org       {"id", "name", "admin_public_key" (bytes), "admin_name"}
    remove_org    {"id"}
    grant_role    {"address", "role"}      roles that reach across organisations
    revoke_role   {"address", "role"}
    add_validator    {"public_key", "p2p_key", "power", "name"}
    remove_validator {"public_key"}
    set_power        {"public_key", "power"}
    approve_contract_upgrade {"address", "code_hash" (bytes)}
                                           lets the owner of a contract deployed with the
                                           "governance" upgrade policy replace its code
                                           with the source of that hash (once)

A change to the validator set made in block h is recorded in header h as its
``next_validators_hash`` and signs blocks from h + 1 on.

State layout (under ``governance/``)::

    next_id           -> int
    prop/<id, 8 bytes> -> Proposal
    validators        -> list[ValidatorEntry]   (the set for the next block)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from msgspec import Struct

from xinlian.apps import identity
from xinlian.apps.base import CallContext, CallError, Method, Role, StateView, require
from xinlian.codec import CodecError, decode, encode
from xinlian.crypto import address_of
from xinlian.protocol.genesis import genesis_validators
from xinlian.types import Event, TxStatus, ValidatorEntry
from xinlian.types.genesis import Genesis

NAME = "governance"
VOTING_PERIOD = 100_000
MAX_VALIDATORS = 100
MAX_POWER = 1_000_000
#: The full state key of the validator set (the node reads it after each block).
VALIDATORS_KEY = NAME.encode() + b"/validators"


class AddOrgParams(Struct, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``add_org``."""

    id: str
    name: str
    admin_public_key: bytes
    admin_name: str


class OrgIdParams(Struct, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``remove_org``."""

    id: str


class RoleParams(Struct, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``grant_role`` / ``revoke_role``."""

    address: str
    role: str


class AddValidatorParams(Struct, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``add_validator``: signing key, Ed25519 transport key, power, name."""

    public_key: bytes
    p2p_key: bytes
    power: int
    name: str


class ValidatorKeyParams(Struct, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``remove_validator``."""

    public_key: bytes


class SetPowerParams(Struct, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``set_power``."""

    public_key: bytes
    power: int


class UpgradeParams(Struct, frozen=True, forbid_unknown_fields=True):
    """Parameters of ``approve_contract_upgrade``."""

    address: str
    code_hash: bytes


#: The contracts app's keys governance reads and writes (see xinlian.contracts.records).
CONTRACTS_APP = "contracts"
CONTRACT_POLICY_PREFIX = b"policy/"
CONTRACT_UPGRADE_PREFIX = b"upgrade/"

ACTIONS: dict[str, type] = {
    "add_org": AddOrgParams,
    "remove_org": OrgIdParams,
    "grant_role": RoleParams,
    "revoke_role": RoleParams,
    "add_validator": AddValidatorParams,
    "remove_validator": ValidatorKeyParams,
    "set_power": SetPowerParams,
    "approve_contract_upgrade": UpgradeParams,
}


def load_validators(raw: bytes | None) -> list[ValidatorEntry]:
    """Decode the stored validator set (empty if absent)."""
    return [] if raw is None else decode(raw, list[ValidatorEntry])


class Proposal(Struct, array_like=True, frozen=True):
    """A governance proposal and the organisations that voted for it."""

    id: int
    proposer: str
    org: str
    action: str
    params: bytes
    yes: list[str]
    status: str  # "open" | "passed" | "failed" | "expired"
    created: int


class ProposeArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``governance.propose``: an action name and its parameters (bytes)."""

    action: str
    params: bytes


class VoteArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``governance.vote``."""

    id: int


class ProposalArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``governance.get_proposal``."""

    id: int


def _prop_key(pid: int) -> bytes:
    return b"prop/" + pid.to_bytes(8, "big")


def _admin(ctx: CallContext) -> identity.Account:
    account = identity.load_account(
        ctx.state.app_state(identity.NAME).get(identity.account_key(ctx.sender_address))
    )
    require(account is not None, "unknown sender", TxStatus.PERMISSION_DENIED)
    assert account is not None
    return account


def _active_orgs(ctx: CallContext, candidates: list[str]) -> set[str]:
    ids = ctx.state.get(b"orgs")
    orgs = set(decode(ids, list[str])) if ids else set()
    return orgs if not candidates else orgs & set(candidates)


def propose(ctx: CallContext, args: ProposeArgs) -> int:
    """Open a proposal (the proposer's organisation votes yes); returns its id."""
    admin = _admin(ctx)
    params_type = ACTIONS.get(args.action)
    require(
        params_type is not None,
        f"unknown action {args.action!r}; actions are {sorted(ACTIONS)}",
        TxStatus.INVALID_ARGS,
    )
    assert params_type is not None
    params: object
    try:
        params = decode(args.params, params_type)
    except CodecError as exc:
        require(False, f"bad params for {args.action}: {exc}", TxStatus.INVALID_ARGS)
        raise  # unreachable
    _validate(ctx, args.action, params)
    raw_next = ctx.state.get(b"next_id")
    pid = decode(raw_next, int) if raw_next else 1
    ctx.state.put(b"next_id", encode(pid + 1))
    proposal = Proposal(
        pid, ctx.sender_address, admin.org, args.action, args.params, [], "open", ctx.height
    )
    ctx.emit(
        Event("governance.proposed", {"id": str(pid), "action": args.action, "org": admin.org})
    )
    _record_vote(ctx, proposal, admin.org, params)
    return pid


def vote(ctx: CallContext, args: VoteArgs) -> str:
    """Vote yes on an open proposal for the caller's organisation; returns its status."""
    admin = _admin(ctx)
    raw = ctx.state.get(_prop_key(args.id))
    require(raw is not None, f"no proposal {args.id}", TxStatus.INVALID_ARGS)
    assert raw is not None
    proposal = decode(raw, Proposal)
    if proposal.status == "open" and ctx.height > proposal.created + VOTING_PERIOD:
        proposal = _replace(proposal, status="expired")
        ctx.state.put(_prop_key(proposal.id), encode(proposal))
        return proposal.status
    require(
        proposal.status == "open", f"proposal {args.id} is {proposal.status}", TxStatus.INVALID_ARGS
    )
    require(
        admin.org not in proposal.yes,
        f"organisation {admin.org!r} already voted",
        TxStatus.INVALID_ARGS,
    )
    params: object = decode(proposal.params, ACTIONS[proposal.action])
    return _record_vote(ctx, proposal, admin.org, params)


def get_proposal(ctx: CallContext, args: ProposalArgs) -> Proposal | None:
    """Read a proposal."""
    raw = ctx.state.get(_prop_key(args.id))
    return None if raw is None else decode(raw, Proposal)


def _record_vote(ctx: CallContext, proposal: Proposal, org: str, params: object) -> str:
    yes = sorted({*proposal.yes, org})
    members = _active_orgs(ctx, [])
    votes = len(set(yes) & members)
    status = "passed" if votes * 3 > len(members) * 2 else "open"
    failure = ""
    if status == "passed":
        # The world may have changed since the proposal was made (another proposal added
        # the same organisation, say): check again, and fail the proposal rather than the
        # vote, so a stale proposal ends instead of staying open for ever.
        try:
            _validate(ctx, proposal.action, params)
        except CallError as exc:
            status, failure = "failed", str(exc)
    proposal = _replace(proposal, yes=yes, status=status)
    ctx.state.put(_prop_key(proposal.id), encode(proposal))
    ctx.emit(Event("governance.voted", {"id": str(proposal.id), "org": org, "status": status}))
    if status == "passed":
        _apply(ctx, proposal.action, params)
        ctx.emit(Event("governance.passed", {"id": str(proposal.id), "action": proposal.action}))
    elif status == "failed":
        ctx.emit(Event("governance.failed", {"id": str(proposal.id), "reason": failure}))
    return status


def _replace(p: Proposal, *, yes: list[str] | None = None, status: str | None = None) -> Proposal:
    return Proposal(
        p.id,
        p.proposer,
        p.org,
        p.action,
        p.params,
        p.yes if yes is None else yes,
        p.status if status is None else status,
        p.created,
    )


def _validate(ctx: CallContext, action: str, params: object) -> None:
    if isinstance(params, AddValidatorParams | ValidatorKeyParams | SetPowerParams):
        _validate_validators(ctx, params)
        return
    ident = ctx.state.app_state(identity.NAME)
    if isinstance(params, AddOrgParams):
        require(
            0 < len(params.id) <= 64 and params.id.isidentifier(),
            "organisation id must be 1-64 letters, digits or _",
            TxStatus.INVALID_ARGS,
        )
        require(
            ident.get(identity.org_key(params.id)) is None,
            f"organisation {params.id!r} exists",
            TxStatus.INVALID_ARGS,
        )
        require(
            len(params.admin_public_key) == ctx.suite.public_key_size,
            f"admin key must be a {ctx.suite.name} public key",
            TxStatus.INVALID_ARGS,
        )
        admin_address = address_of(ctx.suite, params.admin_public_key)
        require(
            ident.get(identity.account_key(admin_address)) is None,
            f"admin key is already account {admin_address}",
            TxStatus.INVALID_ARGS,
        )
    elif isinstance(params, OrgIdParams):
        org = identity.load_org(ident.get(identity.org_key(params.id)))
        require(
            org is not None and org.active,
            f"no active organisation {params.id!r}",
            TxStatus.INVALID_ARGS,
        )
    elif isinstance(params, UpgradeParams):
        _validate_upgrade(ctx, params)
    elif isinstance(params, RoleParams):
        require(
            params.role in identity.ROLE_NAMES,
            f"unknown role {params.role!r}",
            TxStatus.INVALID_ARGS,
        )
        require(
            ident.get(identity.account_key(params.address)) is not None,
            f"no account {params.address}",
            TxStatus.INVALID_ARGS,
        )


def _validators(ctx: CallContext) -> list[ValidatorEntry]:
    return load_validators(ctx.state.get(b"validators"))


def _find(entries: list[ValidatorEntry], public_key: bytes) -> int | None:
    return next((i for i, e in enumerate(entries) if e.public_key == public_key), None)


def _validate_validators(ctx: CallContext, params: object) -> None:
    entries = _validators(ctx)
    if isinstance(params, AddValidatorParams):
        require(
            len(params.public_key) == ctx.suite.public_key_size,
            f"validator key must be a {ctx.suite.name} public key",
            TxStatus.INVALID_ARGS,
        )
        require(
            len(params.p2p_key) == 32,
            "p2p_key must be a 32-byte Ed25519 key",
            TxStatus.INVALID_ARGS,
        )
        require(
            _find(entries, params.public_key) is None,
            "this key is already a validator",
            TxStatus.INVALID_ARGS,
        )
        require(
            all(e.p2p_key != params.p2p_key for e in entries),
            "this p2p_key belongs to another validator",
            TxStatus.INVALID_ARGS,
        )
        require(
            len(entries) < MAX_VALIDATORS,
            f"at most {MAX_VALIDATORS} validators",
            TxStatus.INVALID_ARGS,
        )
        require(
            0 < len(params.name) <= 64,
            "validator name must be 1-64 characters",
            TxStatus.INVALID_ARGS,
        )
    if isinstance(params, AddValidatorParams | SetPowerParams):
        require(
            0 < params.power <= MAX_POWER,
            f"power must be between 1 and {MAX_POWER}",
            TxStatus.INVALID_ARGS,
        )
    if isinstance(params, ValidatorKeyParams | SetPowerParams):
        require(
            _find(entries, params.public_key) is not None,
            "no validator with this key",
            TxStatus.INVALID_ARGS,
        )
    if isinstance(params, ValidatorKeyParams):
        require(len(entries) > 1, "cannot remove the last validator", TxStatus.INVALID_ARGS)


def _apply_validators(ctx: CallContext, action: str, params: object) -> None:
    entries = _validators(ctx)
    if isinstance(params, AddValidatorParams):
        entries.append(ValidatorEntry(params.public_key, params.power, params.name, params.p2p_key))
    elif isinstance(params, ValidatorKeyParams):
        entries = [e for e in entries if e.public_key != params.public_key]
    elif isinstance(params, SetPowerParams):
        entries = [
            ValidatorEntry(e.public_key, params.power, e.name, e.p2p_key)
            if e.public_key == params.public_key
            else e
            for e in entries
        ]
    ctx.state.put(b"validators", encode(entries))
    ctx.emit(Event("governance.validators", {"action": action, "count": str(len(entries))}))


def _validate_upgrade(ctx: CallContext, params: UpgradeParams) -> None:
    contracts = ctx.state.app_state(CONTRACTS_APP)
    require(
        len(params.code_hash) == len(ctx.suite.hash(b"")),
        f"code_hash must be a {ctx.suite.name} hash",
        TxStatus.INVALID_ARGS,
    )
    policy = contracts.get(CONTRACT_POLICY_PREFIX + params.address.encode())
    require(policy is not None, f"no contract {params.address!r}", TxStatus.INVALID_ARGS)
    require(
        policy == encode("governance"),
        f"contract {params.address} is immutable (deployed without an upgrade policy)",
        TxStatus.INVALID_ARGS,
    )


def _apply(ctx: CallContext, action: str, params: object) -> None:
    if isinstance(params, AddValidatorParams | ValidatorKeyParams | SetPowerParams):
        _apply_validators(ctx, action, params)
        return
    ident = ctx.state.app_state(identity.NAME)
    members = sorted(_active_orgs(ctx, []))
    if isinstance(params, AddOrgParams):
        ident.put(identity.org_key(params.id), encode(identity.Org(params.id, params.name, True)))
        address = address_of(ctx.suite, params.admin_public_key)
        ident.put(
            identity.account_key(address),
            encode(
                identity.Account(
                    address, params.admin_public_key, params.admin_name, params.id, ["admin"], True
                )
            ),
        )
        ctx.state.put(b"orgs", encode(sorted({*members, params.id})))
    elif isinstance(params, OrgIdParams):
        org = identity.load_org(ident.get(identity.org_key(params.id)))
        assert org is not None
        ident.put(identity.org_key(org.id), encode(identity.Org(org.id, org.name, False)))
        ctx.state.put(b"orgs", encode([m for m in members if m != params.id]))
    elif isinstance(params, UpgradeParams):
        ctx.state.app_state(CONTRACTS_APP).put(
            CONTRACT_UPGRADE_PREFIX + params.address.encode(), params.code_hash
        )
    elif isinstance(params, RoleParams):
        account = identity.load_account(ident.get(identity.account_key(params.address)))
        assert account is not None
        roles = set(account.roles)
        if action == "grant_role":
            roles.add(params.role)
        else:
            roles.discard(params.role)
        ident.put(
            identity.account_key(account.address),
            encode(
                identity.Account(
                    account.address,
                    account.public_key,
                    account.name,
                    account.org,
                    sorted(roles),
                    account.active,
                )
            ),
        )


class GovernanceApp:
    """Consortium decisions by vote of member organisations."""

    name = NAME
    methods: ClassVar[Mapping[str, Method]] = {
        "propose": Method(propose, ProposeArgs, Role.ADMIN),
        "vote": Method(vote, VoteArgs, Role.ADMIN),
        "get_proposal": Method(get_proposal, ProposalArgs, None, readonly=True),
    }

    def init_genesis(self, state: StateView, genesis: Genesis) -> None:
        """Record the founding member organisations and the first validator set."""
        state.put(b"orgs", encode(sorted(org.id for org in genesis.orgs)))
        state.put(b"validators", encode(genesis_validators(genesis)))
