"""The ``trace`` app: GS1 EPCIS 2.0 events anchored under their CBV 2.0 hashes, with
participants, locations, identifiers, certificates and business transactions.

Who may do what:

* a **regulator** (an account with the governed ``auditor`` role) registers organisations
  as trace participants with their *trace roles* (:data:`ROLE_STEPS`) and the GS1 company
  prefixes and industrial-internet enterprise prefixes (``88.<industry>.<enterprise>``)
  they own (``set_participant``);
* an organisation's **admin** registers the locations (GLNs under its company prefixes,
  or sub-locations of them) where it captures events (``register_location``);
* its **writers** capture events (``capture``): each event must happen at one of the
  organisation's own locations (its ``readPoint`` and ``bizLocation``), with a business
  step its roles allow; inspectors and regulators visit others' registered locations.
  An inspection (``bizStep`` ``inspecting``) by an inspector or regulator attaches to
  every item it names as a certificate. A capture of an already anchored event carrying
  an ``errorDeclaration`` (same hash: the declaration is not hashed) marks the event as
  erroneous, if it comes from the organisation that captured it;
* writers open **business transactions** (purchase order, despatch advice, receiving
  advice...) with their counter-parties, and every party moves a transaction's status by
  agreeing to the same next status (``open_transaction``, ``agree``). Events whose
  ``bizTransactionList`` names an open transaction are linked to it.

Everything is readable by queries (``event``, ``item_events``, ``certificates``,
``transaction``, ``participant``, ``location``, ``resolve``); upstream and downstream
history is :mod:`xinlian.apps.trace.history`.

State layout (under ``trace/``; ``<n>`` is 8-byte big-endian)::

    p/<org>                   -> Participant
    l/<location>              -> Location
    e/<event hash>            -> EventRecord
    i/<item>/n, i/<item>/<n>  -> hashes of the events naming the item, in capture order
    c/<item>/n, c/<item>/<n>  -> hashes of the item's inspection events
    m/<88.x.y/suffix>         -> the GS1 identifier it is mapped to (UTF-8)
    t/<transaction id>        -> BizTransaction
    t/<id>/e/n, .../<n>       -> hashes of the events linked to the transaction
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from msgspec import Struct

from xinlian.apps.base import CallContext, CallError, Method, Role, StateView, require
from xinlian.apps.identity import NAME as IDENTITY
from xinlian.apps.identity import account_key, load_account, org_key
from xinlian.codec import decode, encode
from xinlian.gs1.identifiers import DL_ROOT, IdentifierError, canonical_id, location_parent
from xinlian.gs1.identifiers import parse_ii_id as _parse_ii
from xinlian.types import Event, TxStatus
from xinlian.types.genesis import Genesis
from xinlian.types.trace import CaptureArgs, EventAnchor

NAME = "trace"
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "TransactionEvent",
    "AssociationEvent",
)
_COMMON = {"holding", "stock_taking", "cycle_counting", "sensor_reporting", "other"}
#: The CBV business steps each trace role may capture.
ROLE_STEPS: Mapping[str, frozenset[str]] = {
    "producer": frozenset(
        _COMMON
        | {"commissioning", "creating_class_instance", "packing", "storing", "shipping"}
        | {"loading", "departing", "collecting", "sampling", "destroying"}
    ),
    "processor": frozenset(
        _COMMON
        | {"receiving", "arriving", "accepting", "unloading", "commissioning", "encoding"}
        | {"creating_class_instance", "assembling", "disassembling", "packing", "unpacking"}
        | {"repackaging", "storing", "shipping", "loading", "departing", "staging_outbound"}
        | {"picking", "destroying", "decommissioning", "sampling"}
    ),
    "inspector": frozenset(_COMMON | {"inspecting", "sampling"}),
    "distributor": frozenset(
        _COMMON
        | {"receiving", "arriving", "accepting", "unloading", "loading", "departing"}
        | {"shipping", "transporting", "storing", "staging_outbound", "picking", "packing"}
        | {"unpacking", "void_shipping"}
    ),
    "retailer": frozenset(
        _COMMON
        | {"receiving", "arriving", "accepting", "unloading", "unpacking", "stocking"}
        | {"storing", "retail_selling", "dispensing", "destroying"}
    ),
    "regulator": frozenset(_COMMON | {"inspecting", "sampling", "destroying"}),
}
#: Roles that capture at other organisations' registered locations.
VISITING_ROLES = frozenset({"inspector", "regulator"})
#: Business-transaction kinds (CBV business transaction types).
TX_KINDS = ("po", "desadv", "recadv", "inv", "bol", "prodorder")
#: Statuses in the order they are reached; ``cancelled`` ends any unfinished transaction.
TX_STATUSES = ("proposed", "confirmed", "shipped", "received", "closed")
CANCELLED = "cancelled"
MAX_EVENTS = 1000
MAX_IDS = 1000
MAX_ID = 512
MAX_NAME = 128
MAX_PREFIXES = 16
MAX_PARTIES = 8
MAX_QUERY_LIMIT = 1000
GAS_PER_EVENT = 200
#: Largest encoded arguments of ``capture`` (up to MAX_EVENTS event summaries).
MAX_CAPTURE_ARGS = 2 * 1024 * 1024
EVENT_CAPTURED = "trace.captured"


# RECORDS


class Participant(Struct, array_like=True, frozen=True):
    """A trace participant: an organisation with trace roles and the prefixes it owns."""

    org: str
    roles: list[str]
    gs1_prefixes: list[str]
    ii_prefixes: list[str]


class Location(Struct, array_like=True, frozen=True):
    """A registered location (a GLN or sub-location) and its owner."""

    org: str
    name: str


class EventRecord(Struct, array_like=True, frozen=True):
    """An anchored event: its summary and where it was anchored."""

    anchor: EventAnchor
    org: str
    submitter: str
    tx_hash: bytes
    index: int
    height: int
    block_time_ms: int
    error_reason: str
    error_tx: bytes | None


class BizTransaction(Struct, array_like=True, frozen=True):
    """A business transaction between participants, with each party's agreed status."""

    id: str
    kind: str
    parties: list[str]
    ref: str
    status: str
    votes: dict[str, str]
    opened_by: str
    height: int


# ARGUMENTS


class ParticipantArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``trace.set_participant`` (empty ``roles`` removes the participant)."""

    org: str
    roles: list[str]
    gs1_prefixes: list[str]
    ii_prefixes: list[str]


class LocationArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``trace.register_location``."""

    id: str
    name: str


class MapArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``trace.map_identifier``: an industrial-internet id and a GS1 id."""

    ii_id: str
    gs1_id: str


class OpenArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``trace.open_transaction``."""

    id: str
    kind: str
    parties: list[str]
    ref: str


class AgreeArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``trace.agree``."""

    id: str
    status: str


class HashArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments naming one event by its 32-byte hash."""

    hash: bytes


class IdArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments naming one identifier, location, organisation or transaction."""

    id: str


class ItemArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``trace.item_events``: events ``start`` .. ``start + limit - 1``."""

    id: str
    start: int
    limit: int


# KEYS AND LISTS

Getter = Callable[[bytes], bytes | None]


def participant_key(org: str) -> bytes:
    """State key (within the app) of a participant."""
    return b"p/" + org.encode()


def location_key(location: str) -> bytes:
    """State key (within the app) of a location."""
    return b"l/" + location.encode()


def event_key(digest: bytes) -> bytes:
    """State key (within the app) of an anchored event."""
    return b"e/" + digest


def item_prefix(item: str) -> bytes:
    """Prefix of an item's event list."""
    return b"i/" + item.encode() + b"\x00"


def cert_prefix(item: str) -> bytes:
    """Prefix of an item's certificate (inspection) list."""
    return b"c/" + item.encode() + b"\x00"


def map_key(ii_id: str) -> bytes:
    """State key of an industrial-internet identifier's mapping."""
    return b"m/" + ii_id.encode()


def tx_key(bt_id: str) -> bytes:
    """State key of a business transaction."""
    return b"t/" + bt_id.encode()


def tx_events_prefix(bt_id: str) -> bytes:
    """Prefix of a business transaction's linked events."""
    return b"t/" + bt_id.encode() + b"\x00e/"


def _n(n: int) -> bytes:
    return n.to_bytes(8, "big")


def count(get: Getter, prefix: bytes) -> int:
    """Length of the list at ``prefix``."""
    raw = get(prefix + b"n")
    return 0 if raw is None else decode(raw, int)


def listed(get: Getter, prefix: bytes, start: int = 0, limit: int = 2**62) -> list[bytes]:
    """Items ``start`` .. of the list at ``prefix``."""
    total = count(get, prefix)
    out = []
    for n in range(start, min(total, start + limit)):
        raw = get(prefix + _n(n))
        if raw is not None:
            out.append(raw)
    return out


def _append(state: StateView, prefix: bytes, value: bytes) -> None:
    n = count(state.get, prefix)
    state.put(prefix + _n(n), value)
    state.put(prefix + b"n", encode(n + 1))


def load_event(get: Getter, digest: bytes) -> EventRecord | None:
    """The record of an anchored event, or None."""
    raw = get(event_key(digest))
    return None if raw is None else decode(raw, EventRecord)


def resolve_id(get: Getter, text: str) -> str:
    """The canonical identifier of ``text``: an industrial-internet id through its
    on-chain mapping, anything else through :func:`canonical_id`."""
    if text.startswith("88."):
        raw = get(map_key(text))
        if raw is not None:
            return raw.decode()
    return canonical_id(text)


# HELPERS


def _bad(condition: bool, message: str) -> None:
    require(condition, message, TxStatus.INVALID_ARGS)


def _denied(condition: bool, message: str) -> None:
    require(condition, message, TxStatus.PERMISSION_DENIED)


def _sender_org(ctx: CallContext) -> str:
    raw = ctx.state.app_state(IDENTITY).get(account_key(ctx.sender_address))
    account = load_account(raw)
    if account is None:
        raise CallError("unknown sender", TxStatus.PERMISSION_DENIED)
    return account.org


def _participant(state: StateView, org: str) -> Participant | None:
    raw = state.get(participant_key(org))
    return None if raw is None else decode(raw, Participant)


def _require_participant(state: StateView, org: str) -> Participant:
    p = _participant(state, org)
    _denied(
        p is not None,
        f"organisation {org!r} is not a trace participant; a regulator registers it "
        "with trace.set_participant",
    )
    assert p is not None
    return p


def _text(value: str, what: str, limit: int = MAX_ID, empty: bool = True) -> None:
    size = len(value.encode())
    _bad(
        (empty or size > 0) and size <= limit and "\x00" not in value,
        f"{what} must be {'0' if empty else '1'}-{limit} bytes without NUL",
    )


def _gln_prefix_ok(location: str, prefixes: list[str]) -> bool:
    base = location_parent(location)
    if not base.startswith(DL_ROOT + "/414/"):
        return True  # not a GLN: no company prefix to check
    gln = base[len(DL_ROOT) + 5 :]
    return any(gln.startswith(p) for p in prefixes)


# METHODS: PARTICIPANTS, LOCATIONS, IDENTIFIERS


def set_participant(ctx: CallContext, args: ParticipantArgs) -> None:
    """Register (or update, or with no roles remove) a trace participant (regulators)."""
    # The executor also lets admins call AUDITOR methods; this one is for regulators only.
    caller = load_account(ctx.state.app_state(IDENTITY).get(account_key(ctx.sender_address)))
    _denied(
        caller is not None and Role.AUDITOR.value in caller.roles,
        "only a regulator (an account with the auditor role) registers trace participants",
    )
    _text(args.org, "org", MAX_NAME, empty=False)
    org_exists = ctx.state.app_state(IDENTITY).get(org_key(args.org)) is not None
    _bad(org_exists, f"no organisation {args.org!r}")
    for role in args.roles:
        _bad(role in ROLE_STEPS, f"unknown trace role {role!r}; roles are {sorted(ROLE_STEPS)}")
    _bad(
        len(args.gs1_prefixes) <= MAX_PREFIXES and len(args.ii_prefixes) <= MAX_PREFIXES,
        f"at most {MAX_PREFIXES} prefixes of each kind",
    )
    for p in args.gs1_prefixes:
        _bad(
            p.isascii() and p.isdigit() and 6 <= len(p) <= 12,
            f"GS1 company prefix {p!r} must be 6-12 digits",
        )
    for p in args.ii_prefixes:
        try:
            ii = _parse_ii(p + "/x")
        except IdentifierError:
            ii = None
        _bad(
            ii is not None and ii.prefix == p,
            f"industrial-internet prefix {p!r} must be 88.<industry>.<enterprise>",
        )
    key = participant_key(args.org)
    if not args.roles:
        ctx.state.delete(key)
    else:
        record = Participant(
            args.org, sorted(set(args.roles)), sorted(args.gs1_prefixes), sorted(args.ii_prefixes)
        )
        ctx.state.put(key, encode(record))
    ctx.emit(Event("trace.participant", {"org": args.org, "roles": ",".join(sorted(args.roles))}))


def register_location(ctx: CallContext, args: LocationArgs) -> str:
    """Register a location of the caller's organisation; returns its canonical id."""
    org = _sender_org(ctx)
    participant = _require_participant(ctx.state, org)
    _text(args.id, "id", empty=False)
    _text(args.name, "name", MAX_NAME)
    location = canonical_id(args.id)
    _denied(
        _gln_prefix_ok(location, participant.gs1_prefixes),
        f"location {location} is not under a GS1 company prefix of organisation {org!r} "
        f"({participant.gs1_prefixes})",
    )
    key = location_key(location)
    raw = ctx.state.get(key)
    if raw is not None:
        owner = decode(raw, Location).org
        _denied(owner == org, f"location {location} is registered to organisation {owner!r}")
    ctx.state.put(key, encode(Location(org, args.name)))
    ctx.emit(Event("trace.location", {"id": location, "org": org}))
    return location


def map_identifier(ctx: CallContext, args: MapArgs) -> str:
    """Map an industrial-internet identifier to a GS1 identifier (once, by the owner of
    its enterprise prefix); returns the canonical GS1 id."""
    org = _sender_org(ctx)
    participant = _require_participant(ctx.state, org)
    try:
        ii = _parse_ii(args.ii_id)
    except IdentifierError as exc:
        raise CallError(str(exc), TxStatus.INVALID_ARGS) from None
    _denied(
        ii.prefix in participant.ii_prefixes,
        f"enterprise prefix {ii.prefix} does not belong to organisation {org!r}",
    )
    _text(args.gs1_id, "gs1_id", empty=False)
    target = canonical_id(args.gs1_id)
    _bad(target.startswith(DL_ROOT + "/"), f"{args.gs1_id!r} is not a GS1 identifier")
    key = map_key(str(ii))
    _bad(ctx.state.get(key) is None, f"{ii} is already mapped")
    ctx.state.put(key, target.encode())
    ctx.emit(Event("trace.mapped", {"ii_id": str(ii), "gs1_id": target}))
    return target


# METHODS: CAPTURE


def _check_anchor(i: int, a: EventAnchor) -> None:
    where = f"events[{i}]"
    _bad(len(a.hash) == 32, f"{where}.hash must be 32 bytes (SHA-256)")
    _bad(a.type in EVENT_TYPES, f"{where}.type {a.type!r} is not one of {list(EVENT_TYPES)}")
    _bad(a.time_ms >= 0, f"{where}.time_ms must be >= 0")
    for name in ("action", "biz_step", "disposition", "read_point", "biz_location", "parent"):
        _text(getattr(a, name), f"{where}.{name}")
    _text(a.error_reason, f"{where}.error_reason")
    ids = a.epcs + a.classes + a.inputs + a.outputs + a.biz_transactions + a.corrective
    _bad(len(ids) <= MAX_IDS, f"{where} names {len(ids)} identifiers; at most {MAX_IDS}")
    for value in ids:
        _text(value, f"{where} identifier", empty=False)
    _bad(
        bool(a.read_point or a.biz_location),
        f"{where} needs a readPoint or bizLocation (events are captured at a place)",
    )


def _check_place(
    state: StateView, i: int, org: str, visiting: bool, field: str, place: str
) -> None:
    if not place:
        return
    raw = state.get(location_key(place))
    if raw is None and place != location_parent(place):
        raw = state.get(location_key(location_parent(place)))
    _denied(raw is not None, f"events[{i}].{field} {place} is not a registered location")
    assert raw is not None
    owner = decode(raw, Location).org
    _denied(
        visiting or owner == org,
        f"events[{i}].{field} {place} belongs to organisation {owner!r}, not {org!r}",
    )


def _declare_error(ctx: CallContext, i: int, org: str, a: EventAnchor, old: EventRecord) -> None:
    _bad(
        bool(a.error_reason),
        f"events[{i}] {a.hash.hex()} is already anchored (transaction {old.tx_hash.hex()})",
    )
    _denied(
        old.org == org,
        f"events[{i}]: only organisation {old.org!r}, which captured the event, may declare "
        "it erroneous",
    )
    _bad(not old.error_reason, f"events[{i}] {a.hash.hex()} is already declared erroneous")
    record = EventRecord(
        old.anchor,
        old.org,
        old.submitter,
        old.tx_hash,
        old.index,
        old.height,
        old.block_time_ms,
        a.error_reason,
        ctx.tx_hash,
    )
    ctx.state.put(event_key(a.hash), encode(record))
    ctx.emit(Event("trace.error_declared", {"hash": a.hash.hex(), "reason": a.error_reason}))


def capture(ctx: CallContext, args: CaptureArgs) -> dict[str, Any]:
    """Anchor the events of one EPCIS document: permissions per event, then records,
    item indexes, certificates and transaction links. Returns ``{"count", "declared"}``."""
    total = len(args.events)
    _bad(0 < total <= MAX_EVENTS, f"give 1-{MAX_EVENTS} events, got {total}")
    ctx.charge(GAS_PER_EVENT * total)
    org = _sender_org(ctx)
    participant = _require_participant(ctx.state, org)
    allowed = frozenset().union(*(ROLE_STEPS[r] for r in participant.roles))
    visiting = bool(VISITING_ROLES & set(participant.roles))
    seen: set[bytes] = set()
    state = ctx.state
    new = declared = 0
    for i, a in enumerate(args.events):
        _check_anchor(i, a)
        _bad(a.hash not in seen, f"events[{i}] {a.hash.hex()} appears twice in this capture")
        seen.add(a.hash)
        _denied(
            a.biz_step in allowed,
            f"events[{i}]: organisation {org!r} (trace roles {participant.roles}) may not "
            f"capture business step {a.biz_step!r}",
        )
        _check_place(state, i, org, visiting, "readPoint", a.read_point)
        _check_place(state, i, org, visiting, "bizLocation", a.biz_location)
        old = load_event(state.get, a.hash)
        if old is not None:
            _declare_error(ctx, i, org, a, old)
            declared += 1
            continue
        _bad(
            not a.error_reason,
            f"events[{i}] declares an error but no event {a.hash.hex()} is anchored",
        )
        record = EventRecord(
            a, org, ctx.sender_address, ctx.tx_hash, i, ctx.height, ctx.time_ms, "", None
        )
        state.put(event_key(a.hash), encode(record))
        items = {*a.epcs, *a.classes, *a.inputs, *a.outputs, *([a.parent] if a.parent else [])}
        for item in sorted(items):
            _append(state, item_prefix(item), a.hash)
        if a.biz_step == "inspecting" and visiting:
            for item in sorted({*a.epcs, *a.classes, *([a.parent] if a.parent else [])}):
                _append(state, cert_prefix(item), a.hash)
        for bt in sorted(set(a.biz_transactions)):
            if state.get(tx_key(bt)) is not None:
                _append(state, tx_events_prefix(bt), a.hash)
        new += 1
    ctx.emit(Event(EVENT_CAPTURED, {"org": org, "count": str(new), "declared": str(declared)}))
    return {"count": new, "declared": declared}


# METHODS: BUSINESS TRANSACTIONS


def _load_tx(state: StateView, bt_id: str) -> BizTransaction | None:
    raw = state.get(tx_key(bt_id))
    return None if raw is None else decode(raw, BizTransaction)


def open_transaction(ctx: CallContext, args: OpenArgs) -> None:
    """Open a business transaction between the caller's organisation and its parties."""
    org = _sender_org(ctx)
    _require_participant(ctx.state, org)
    _text(args.id, "id", 256, empty=False)
    _bad(args.kind in TX_KINDS, f"kind {args.kind!r} is not one of {list(TX_KINDS)}")
    parties = sorted(set(args.parties) | {org})
    _bad(
        2 <= len(parties) <= MAX_PARTIES,
        f"a transaction has 2-{MAX_PARTIES} parties (the caller's organisation included)",
    )
    for party in parties:
        _bad(_participant(ctx.state, party) is not None, f"party {party!r} is not a participant")
    _bad(_load_tx(ctx.state, args.id) is None, f"transaction {args.id!r} already exists")
    if args.ref:
        _bad(_load_tx(ctx.state, args.ref) is not None, f"no transaction {args.ref!r} to refer to")
    record = BizTransaction(
        args.id, args.kind, parties, args.ref, "proposed", {org: "proposed"}, org, ctx.height
    )
    ctx.state.put(tx_key(args.id), encode(record))
    ctx.emit(Event("trace.transaction_opened", {"id": args.id, "kind": args.kind, "by": org}))


def agree(ctx: CallContext, args: AgreeArgs) -> str:
    """Agree, as a party, to move a transaction to ``status``; the status changes when every
    party has agreed to it. Returns the transaction's status after the call."""
    org = _sender_org(ctx)
    bt = _load_tx(ctx.state, args.id)
    _bad(bt is not None, f"no transaction {args.id!r}")
    assert bt is not None
    _denied(org in bt.parties, f"organisation {org!r} is not a party to {args.id!r}")
    _bad(
        bt.status not in ("closed", CANCELLED),
        f"transaction {args.id!r} is {bt.status}; it cannot change any more",
    )
    if args.status != CANCELLED:
        _bad(args.status in TX_STATUSES, f"status {args.status!r} is not one of "
             f"{[*TX_STATUSES, CANCELLED]}")  # fmt: skip
        _bad(
            TX_STATUSES.index(args.status) == TX_STATUSES.index(bt.status) + 1,
            f"transaction {args.id!r} is {bt.status}; the next status is "
            f"{TX_STATUSES[TX_STATUSES.index(bt.status) + 1]!r} (or {CANCELLED!r})",
        )
    votes = dict(bt.votes)
    votes[org] = args.status
    status = bt.status
    if args.status == CANCELLED or all(votes.get(p) == args.status for p in bt.parties):
        status = args.status
    record = BizTransaction(
        bt.id, bt.kind, bt.parties, bt.ref, status, dict(sorted(votes.items())), bt.opened_by,
        bt.height,
    )  # fmt: skip
    ctx.state.put(tx_key(bt.id), encode(record))
    ctx.emit(Event("trace.agreed", {"id": bt.id, "org": org, "status": status}))
    return status


# QUERIES


def event_json(record: EventRecord) -> dict[str, Any]:
    """An event record as JSON-ready data."""
    a = record.anchor
    return {
        "hash": a.hash.hex(),
        "type": a.type,
        "time_ms": a.time_ms,
        "action": a.action,
        "biz_step": a.biz_step,
        "disposition": a.disposition,
        "read_point": a.read_point,
        "biz_location": a.biz_location,
        "parent": a.parent,
        "epcs": a.epcs,
        "classes": a.classes,
        "inputs": a.inputs,
        "outputs": a.outputs,
        "biz_transactions": a.biz_transactions,
        "org": record.org,
        "submitter": record.submitter,
        "anchor": {
            "tx_hash": record.tx_hash.hex(),
            "index": record.index,
            "height": record.height,
            "block_time_ms": record.block_time_ms,
        },
        "error": None
        if not record.error_reason
        else {"reason": record.error_reason, "tx_hash": (record.error_tx or b"").hex()},
    }


def _events(get: Getter, hashes: list[bytes]) -> list[dict[str, Any]]:
    return [event_json(r) for h in hashes if (r := load_event(get, h)) is not None]


def get_event(ctx: CallContext, args: HashArgs) -> dict[str, Any] | None:
    """An anchored event's summary and anchor."""
    _bad(len(args.hash) == 32, "hash must be 32 bytes")
    record = load_event(ctx.state.get, args.hash)
    return None if record is None else event_json(record)


def item_events(ctx: CallContext, args: ItemArgs) -> dict[str, Any]:
    """The events naming an item (any identifier form), in capture order."""
    _text(args.id, "id", empty=False)
    _bad(args.start >= 0 and 0 < args.limit <= MAX_QUERY_LIMIT,
         f"need start >= 0 and limit 1-{MAX_QUERY_LIMIT}")  # fmt: skip
    item = resolve_id(ctx.state.get, args.id)
    prefix = item_prefix(item)
    return {
        "id": item,
        "total": count(ctx.state.get, prefix),
        "events": _events(ctx.state.get, listed(ctx.state.get, prefix, args.start, args.limit)),
    }


def certificates(ctx: CallContext, args: IdArgs) -> list[dict[str, Any]]:
    """The inspections attached to an item."""
    _text(args.id, "id", empty=False)
    item = resolve_id(ctx.state.get, args.id)
    return _events(ctx.state.get, listed(ctx.state.get, cert_prefix(item), 0, MAX_QUERY_LIMIT))


def transaction(ctx: CallContext, args: IdArgs) -> dict[str, Any] | None:
    """A business transaction with its linked events."""
    _text(args.id, "id", 256, empty=False)
    bt = _load_tx(ctx.state, args.id)
    if bt is None:
        return None
    hashes = listed(ctx.state.get, tx_events_prefix(bt.id), 0, MAX_QUERY_LIMIT)
    return {
        "id": bt.id,
        "kind": bt.kind,
        "parties": bt.parties,
        "ref": bt.ref,
        "status": bt.status,
        "votes": bt.votes,
        "opened_by": bt.opened_by,
        "height": bt.height,
        "events": _events(ctx.state.get, hashes),
    }


def participant(ctx: CallContext, args: IdArgs) -> Participant | None:
    """A participant record."""
    return _participant(ctx.state, args.id)


def location(ctx: CallContext, args: IdArgs) -> dict[str, Any] | None:
    """A location's owner and name (any identifier form)."""
    _text(args.id, "id", empty=False)
    place = canonical_id(args.id)
    raw = ctx.state.get(location_key(place))
    if raw is None:
        return None
    loc = decode(raw, Location)
    return {"id": place, "org": loc.org, "name": loc.name}


def resolve(ctx: CallContext, args: IdArgs) -> str:
    """The canonical identifier of any accepted form (mapped 88.x.y ids included)."""
    _text(args.id, "id", empty=False)
    return resolve_id(ctx.state.get, args.id)


class TraceApp:
    """Product traceability on GS1 EPCIS 2.0."""

    name = NAME
    methods: ClassVar[Mapping[str, Method]] = {
        "set_participant": Method(set_participant, ParticipantArgs, Role.AUDITOR),
        "register_location": Method(register_location, LocationArgs, Role.ADMIN),
        "map_identifier": Method(map_identifier, MapArgs, Role.WRITER),
        "capture": Method(capture, CaptureArgs, Role.WRITER, max_args=MAX_CAPTURE_ARGS),
        "open_transaction": Method(open_transaction, OpenArgs, Role.WRITER),
        "agree": Method(agree, AgreeArgs, Role.WRITER),
        "event": Method(get_event, HashArgs, Role.READER, readonly=True),
        "item_events": Method(item_events, ItemArgs, Role.READER, readonly=True),
        "certificates": Method(certificates, IdArgs, Role.READER, readonly=True),
        "transaction": Method(transaction, IdArgs, Role.READER, readonly=True),
        "participant": Method(participant, IdArgs, Role.READER, readonly=True),
        "location": Method(location, IdArgs, Role.READER, readonly=True),
        "resolve": Method(resolve, IdArgs, Role.READER, readonly=True),
    }

    def init_genesis(self, state: StateView, genesis: Genesis) -> None:
        """No participants at genesis: a regulator registers them."""
