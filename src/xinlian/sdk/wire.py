"""The REST API's JSON shapes: parsing answers into records, strictly.

Every parser raises :class:`~xinlian.sdk.errors.ResponseError` when a document does not
have the shape the API contract describes, so a wrong or hostile node never surfaces as a
``KeyError`` deep inside the client.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from xinlian.codec import CodecError, decode
from xinlian.sdk.errors import ApiError, NotFoundError, ResponseError
from xinlian.sdk.models import (
    AccountInfo,
    BlockEvent,
    BlockInfo,
    EquivocationInfo,
    EventPage,
    EventRecord,
    NodeStatus,
    ReceiptInfo,
    SignedMessage,
    Simulation,
    StateEntry,
    TxInfo,
    TxProof,
)
from xinlian.sdk.verify import ValidatorChange
from xinlian.types import (
    BlockHeader,
    Commit,
    Event,
    MerkleProof,
    Receipt,
    SignedTransaction,
    StateProof,
    TxStatus,
    Validator,
    ValidatorSet,
)
from xinlian.types.genesis import Genesis

__all__ = [
    "parse_account",
    "parse_block",
    "parse_block_event",
    "parse_event_page",
    "parse_events",
    "parse_genesis",
    "parse_problem",
    "parse_receipt",
    "parse_simulation",
    "parse_state",
    "parse_status",
    "parse_tx",
    "parse_validators",
    "record_from_json",
]

S = TypeVar("S", bound=msgspec.Struct)


@lru_cache(maxsize=64)
def _info(tp: type) -> mi.Type:
    return mi.type_info(tp)


def _convert(t: mi.Type, value: Any, path: str) -> Any:
    if isinstance(t, mi.StructType):
        if not isinstance(value, dict):
            raise ResponseError(f"{path}: expected an object, got {type(value).__name__}")
        kwargs: dict[str, Any] = {}
        for f in t.fields:
            if f.encode_name not in value:
                raise ResponseError(f"{path}: missing field {f.encode_name!r}")
            kwargs[f.name] = _convert(f.type, value[f.encode_name], f"{path}.{f.encode_name}")
        return t.cls(**kwargs)
    if isinstance(t, mi.BytesType):
        return _hex(value, path)
    if isinstance(t, mi.IntType):
        number = _int(value, path)
        if (
            (t.ge is not None and number < t.ge)
            or (t.le is not None and number > t.le)
            or (t.gt is not None and number <= t.gt)
            or (t.lt is not None and number >= t.lt)
        ):
            raise ResponseError(f"{path}: {number} is out of range")
        return number
    if isinstance(t, mi.StrType):
        return _str(value, path)
    if isinstance(t, mi.BoolType):
        if not isinstance(value, bool):
            raise ResponseError(f"{path}: expected a boolean")
        return value
    if isinstance(t, mi.ListType):
        if not isinstance(value, list):
            raise ResponseError(f"{path}: expected a list, got {type(value).__name__}")
        return [_convert(t.item_type, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(t, mi.DictType):
        if not isinstance(value, dict):
            raise ResponseError(f"{path}: expected an object")
        return {
            _convert(t.key_type, k, path): _convert(t.value_type, v, f"{path}.{k}")
            for k, v in value.items()
        }
    raise ResponseError(f"{path}: unsupported field type {t!r}")  # pragma: no cover


def record_from_json(tp: type[S], value: Any, path: str = "") -> S:
    """Build a core record (``BlockHeader``, ``Commit``, ``MerkleProof``...) from its JSON
    form, where fields are named and bytes are lowercase hex strings."""
    result: S = _convert(_info(tp), value, path or tp.__name__)
    return result


def _hex(value: Any, path: str) -> bytes:
    if not isinstance(value, str):
        raise ResponseError(f"{path}: expected a hex string, got {type(value).__name__}")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ResponseError(f"{path}: not a hex string: {value[:40]!r}") from None


def _int(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ResponseError(f"{path}: expected an integer, got {type(value).__name__}")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ResponseError(f"{path}: expected a string, got {type(value).__name__}")
    return value


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResponseError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def _get(doc: dict[str, Any], key: str, path: str) -> Any:
    try:
        return doc[key]
    except KeyError:
        raise ResponseError(f"{path}: missing field {key!r}") from None


def parse_problem(status: int, body: Any, text: str = "") -> ApiError:
    """The error for a non-2xx answer (a problem+json document, or anything else)."""
    if isinstance(body, dict):
        reason = str(body.get("reason") or "")
        detail = str(body.get("detail") or body.get("title") or text or "")
        title = str(body.get("title") or "")
    else:
        reason, detail, title = "", text.strip()[:500], ""
    cls = NotFoundError if status == 404 else ApiError
    return cls(status, reason, detail or f"HTTP {status}", title)


def parse_status(body: Any) -> NodeStatus:
    """``GET /v1/status``."""
    doc = _obj(body, "status")
    p = "status"
    return NodeStatus(
        chain_id=_str(_get(doc, "chain_id", p), f"{p}.chain_id"),
        suite=_str(_get(doc, "suite", p), f"{p}.suite"),
        genesis_hash=_hex(_get(doc, "genesis_hash", p), f"{p}.genesis_hash"),
        height=_int(_get(doc, "height", p), f"{p}.height"),
        latest_block_hash=_hex(doc.get("latest_block_hash") or "", f"{p}.latest_block_hash"),
        latest_time_ms=_int(doc.get("latest_time_ms") or 0, f"{p}.latest_time_ms"),
        state_root=_hex(doc.get("state_root") or "", f"{p}.state_root"),
        mempool_size=_int(doc.get("mempool_size", 0), f"{p}.mempool_size"),
        node=str(doc.get("node", "")),
        validator=doc.get("validator"),
        version=str(doc.get("version", "")),
        consensus=doc["consensus"] if isinstance(doc.get("consensus"), dict) else {},
    )


def _decode_output(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return msgspec.msgpack.decode(raw)
    except msgspec.DecodeError:
        return raw


def parse_receipt(body: Any, path: str = "receipt") -> ReceiptInfo:
    """A receipt JSON object (``status`` as an integer, ``output`` as hex)."""
    receipt = record_from_json(Receipt, body, path)
    try:
        status = TxStatus(receipt.status)
    except ValueError:
        raise ResponseError(f"{path}.status: unknown status {receipt.status}") from None
    return ReceiptInfo(
        tx_hash=receipt.tx_hash,
        status=status,
        gas_used=receipt.gas_used,
        events=[Event(e.type, dict(e.attributes)) for e in receipt.events],
        error=receipt.error,
        output=_decode_output(receipt.output),
        output_raw=receipt.output,
    )


def _opt(doc: dict[str, Any], key: str, conv: Any, path: str) -> Any:
    value = doc.get(key)
    return None if value is None else conv(value, f"{path}.{key}")


def parse_simulation(body: Any) -> Simulation:
    """``POST /v1/transactions/simulate``."""
    p = "simulation"
    doc = _obj(body, p)
    outcome = _str(_get(doc, "outcome", p), f"{p}.outcome")
    if outcome not in ("ok", "failed", "refused"):
        raise ResponseError(f"{p}.outcome: unknown outcome {outcome!r}")
    receipt = doc.get("receipt")
    refused = doc.get("refused")
    if (outcome == "refused") != (receipt is None) or (outcome == "refused") != (
        refused is not None
    ):
        raise ResponseError(f"{p}: outcome {outcome!r} does not match its receipt")
    info = None if receipt is None else parse_receipt(receipt, f"{p}.receipt")
    if info is not None and (outcome == "ok") != info.ok:
        raise ResponseError(f"{p}: outcome {outcome!r} does not match the receipt's status")
    return Simulation(
        outcome=outcome,
        height=_opt(doc, "height", _int, p),
        hash=_opt(doc, "hash", _hex, p),
        signed=doc.get("signed") is True,
        sender_address=_opt(doc, "sender_address", _str, p),
        nonce=_opt(doc, "nonce", _int, p),
        gas_limit=_opt(doc, "gas_limit", _int, p),
        capped=doc.get("capped") is True,
        refused=None if refused is None else _str(refused, f"{p}.refused"),
        receipt=info,
        code=_opt(doc, "code", _str, p),
    )


def parse_tx(body: Any) -> TxInfo:
    """``GET /v1/transactions/{hash}`` (committed or pending)."""
    doc = _obj(body, "transaction")
    p = "transaction"
    tx_hash = _hex(_get(doc, "hash", p), f"{p}.hash")
    status = _str(_get(doc, "status", p), f"{p}.status")
    if status != "committed":
        return TxInfo(hash=tx_hash, status=status)
    raw = _hex(_get(doc, "raw", p), f"{p}.raw")
    try:
        stx = decode(raw, SignedTransaction)  # the raw bytes are what the hash covers
    except CodecError as exc:
        raise ResponseError(f"{p}.raw: {exc}") from None
    proof_doc = _obj(_get(doc, "proof", p), f"{p}.proof")
    proof = TxProof(
        block_hash=_hex(_get(proof_doc, "block_hash", "proof"), "proof.block_hash"),
        header=record_from_json(BlockHeader, _get(proof_doc, "header", "proof"), "proof.header"),
        commit=record_from_json(Commit, _get(proof_doc, "commit", "proof"), "proof.commit"),
        tx_proof=record_from_json(
            MerkleProof, _get(proof_doc, "tx_proof", "proof"), "proof.tx_proof"
        ),
        receipt_proof=record_from_json(
            MerkleProof, _get(proof_doc, "receipt_proof", "proof"), "proof.receipt_proof"
        ),
    )
    return TxInfo(
        hash=tx_hash,
        status=status,
        height=_int(_get(doc, "height", p), f"{p}.height"),
        index=_int(_get(doc, "index", p), f"{p}.index"),
        tx=stx.tx,
        signature=stx.signature,
        raw=raw,
        receipt=parse_receipt(_get(doc, "receipt", p), f"{p}.receipt"),
        proof=proof,
    )


def parse_block(body: Any) -> BlockInfo:
    """``GET /v1/blocks/{height}`` and ``/v1/blocks/by-hash/{hash}``."""
    doc = _obj(body, "block")
    p = "block"
    txs = _get(doc, "txs", p)
    if not isinstance(txs, list):
        raise ResponseError("block.txs: expected a list")
    return BlockInfo(
        height=_int(_get(doc, "height", p), f"{p}.height"),
        hash=_hex(_get(doc, "hash", p), f"{p}.hash"),
        header=record_from_json(BlockHeader, _get(doc, "header", p), f"{p}.header"),
        commit=record_from_json(Commit, _get(doc, "commit", p), f"{p}.commit"),
        txs=[_hex(t, f"{p}.txs[{i}]") for i, t in enumerate(txs)],
    )


def parse_state(body: Any) -> StateEntry:
    """``GET /v1/state/{key}``."""
    doc = _obj(body, "state")
    p = "state"
    value = _get(doc, "value", p)
    header = _get(doc, "header", p)
    return StateEntry(
        key=_hex(_get(doc, "key", p), f"{p}.key"),
        value=None if value is None else _hex(value, f"{p}.value"),
        height=_int(_get(doc, "height", p), f"{p}.height"),
        state_root=_hex(_get(doc, "state_root", p), f"{p}.state_root"),
        header=None if header is None else record_from_json(BlockHeader, header, f"{p}.header"),
        block_hash=_hex(doc.get("block_hash") or "", f"{p}.block_hash"),
        proof=record_from_json(StateProof, _get(doc, "proof", p), f"{p}.proof"),
    )


def parse_account(body: Any) -> AccountInfo:
    """``GET /v1/accounts/{address}``."""
    doc = _obj(body, "account")
    address = _str(_get(doc, "address", "account"), "account.address")
    nonce = _int(_get(doc, "nonce", "account"), "account.nonce")
    record = doc.get("account")
    if record is None:
        return AccountInfo(address=address, nonce=nonce, registered=False)
    rec = _obj(record, "account.account")
    roles = rec.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ResponseError("account.account.roles: expected a list of strings")
    return AccountInfo(
        address=address,
        nonce=nonce,
        registered=True,
        public_key=_hex(rec.get("public_key", ""), "account.account.public_key"),
        name=str(rec.get("name", "")),
        org=str(rec.get("org", "")),
        roles=list(roles),
        active=bool(rec.get("active", False)),
    )


def _event_record(doc: Any, height: int | None, path: str) -> EventRecord:
    ev = _obj(doc, path)
    attributes = _obj(ev.get("attributes", {}), f"{path}.attributes")
    return EventRecord(
        height=_int(_get(ev, "height", path), f"{path}.height") if height is None else height,
        tx_hash=_hex(_get(ev, "tx_hash", path), f"{path}.tx_hash"),
        type=_str(_get(ev, "type", path), f"{path}.type"),
        attributes={str(k): str(v) for k, v in attributes.items()},
    )


def parse_events(body: Any) -> list[EventRecord]:
    """``GET /v1/events``."""
    events = _get(_obj(body, "events"), "events", "events")
    if not isinstance(events, list):
        raise ResponseError("events.events: expected a list")
    return [_event_record(e, None, f"events[{i}]") for i, e in enumerate(events)]


def parse_event_page(body: Any) -> EventPage:
    """``GET /v1/events`` with its ``next`` cursor."""
    doc = _obj(body, "events")
    following = doc.get("next")
    if following is not None and not isinstance(following, str):
        raise ResponseError("events.next: expected a string or null")
    return EventPage(parse_events(body), following)


def parse_validators(body: Any) -> tuple[ValidatorSet, bytes]:
    """``GET /v1/validators``: the set and the hash the node claims for it."""
    doc = _obj(body, "validators")
    items = _get(doc, "validators", "validators")
    if not isinstance(items, list):
        raise ResponseError("validators.validators: expected a list")
    validators = [record_from_json(Validator, v, f"validators[{i}]") for i, v in enumerate(items)]
    return ValidatorSet(validators), _hex(doc.get("hash") or "", "validators.hash")


def parse_genesis(body: Any) -> Genesis:
    """``GET /v1/genesis`` (the genesis JSON document)."""
    try:
        return msgspec.convert(body, Genesis)
    except msgspec.ValidationError as exc:
        raise ResponseError(f"genesis: {exc}") from None


def parse_block_event(body: Any) -> BlockEvent:
    """One WebSocket message of type ``block``."""
    doc = _obj(body, "ws")
    height = _int(_get(doc, "height", "ws"), "ws.height")
    events = doc.get("events", [])
    if not isinstance(events, list):
        raise ResponseError("ws.events: expected a list")
    txs = doc.get("txs", 0)
    return BlockEvent(
        height=height,
        hash=_hex(_get(doc, "hash", "ws"), "ws.hash"),
        time_ms=_int(doc.get("time_ms", 0), "ws.time_ms"),
        tx_count=len(txs) if isinstance(txs, list) else _int(txs, "ws.txs"),
        events=[_event_record(e, height, f"ws.events[{i}]") for i, e in enumerate(events)],
    )


def parse_validator_changes(body: Any) -> list[ValidatorChange]:
    """``GET /v1/validators/changes``."""
    doc = _obj(body, "changes")
    items = _get(doc, "changes", "changes")
    if not isinstance(items, list):
        raise ResponseError("changes.changes: expected a list")
    out: list[ValidatorChange] = []
    for i, item in enumerate(items):
        p = f"changes[{i}]"
        entry = _obj(item, p)
        members = _get(entry, "validators", p)
        if not isinstance(members, list):
            raise ResponseError(f"{p}.validators: expected a list")
        out.append(
            ValidatorChange(
                record_from_json(BlockHeader, _get(entry, "header", p), f"{p}.header"),
                record_from_json(Commit, _get(entry, "commit", p), f"{p}.commit"),
                ValidatorSet(
                    [
                        record_from_json(Validator, v, f"{p}.validators[{j}]")
                        for j, v in enumerate(members)
                    ]
                ),
            )
        )
    return out


def _signed_message(value: Any, path: str) -> SignedMessage:
    doc = _obj(value, path)
    return SignedMessage(
        _hex(_get(doc, "signed", path), f"{path}.signed"),
        _hex(_get(doc, "signature", path), f"{path}.signature"),
        _hex(_get(doc, "block_hash", path), f"{path}.block_hash"),
    )


def parse_equivocations(body: Any) -> list[EquivocationInfo]:
    """``GET /v1/consensus/equivocations`` (not yet checked)."""
    doc = _obj(body, "equivocations")
    items = _get(doc, "equivocations", "equivocations")
    if not isinstance(items, list):
        raise ResponseError("equivocations: expected a list")
    out: list[EquivocationInfo] = []
    for i, item in enumerate(items):
        p = f"equivocations[{i}]"
        e = _obj(item, p)
        out.append(
            EquivocationInfo(
                kind=_str(_get(e, "kind", p), f"{p}.kind"),
                height=_int(_get(e, "height", p), f"{p}.height"),
                round=_int(_get(e, "round", p), f"{p}.round"),
                validator_index=_int(_get(e, "validator_index", p), f"{p}.validator_index"),
                validator=_hex(_get(e, "validator", p), f"{p}.validator"),
                first=_signed_message(_get(e, "first", p), f"{p}.first"),
                second=_signed_message(_get(e, "second", p), f"{p}.second"),
                detected_ms=_int(_get(e, "detected_ms", p), f"{p}.detected_ms"),
            )
        )
    return out
