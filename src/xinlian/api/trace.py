"""Traceability routes: EPCIS 2.0 capture and validation, the off-chain event-body store,
and queries in the spirit of the EPCIS Query interface (events by item, history, proofs).

The event *bodies* live off chain in this node's key-value store under ``T/<hash>``: the
event as captured, with its document's ``@context`` so that anyone holding the body can
recompute the CBV 2.0 hash. The chain holds only the hashes and summaries (the ``trace``
app). A body is accepted only inside a valid EPCIS document, from an authenticated
writer (a signed upload, or the signed capture transaction it comes with), within the
account's and organisation's daily quotas; bodies whose events are never anchored are
purged after the retention time (see :mod:`xinlian.apps.trace.bodies`). A body is served
with the event's on-chain proof.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from xinlian.api.problems import Problem, bad_request, not_found
from xinlian.api.request import NODE, int_param, json_response, parse_hex
from xinlian.api.transactions import _submit_problem
from xinlian.api.views import commit_json, header_json, receipt_json
from xinlian.apps import identity
from xinlian.apps.base import Role
from xinlian.apps.trace.app import NAME, event_json, item_prefix, listed, load_event, resolve_id
from xinlian.apps.trace.bodies import BODY_PREFIX, BodyLimits, BodyStore, QuotaExceeded
from xinlian.apps.trace.history import DIRECTIONS, history
from xinlian.codec import CodecError, decode, encode, to_builtins
from xinlian.crypto import address_of
from xinlian.gs1.epcis import EpcisError, EventSummary
from xinlian.gs1.eventhash import hash_uri
from xinlian.mempool import MempoolError
from xinlian.node.runtime import Node
from xinlian.protocol import Refusal
from xinlian.sdk.trace import CapturePlan, plan_capture
from xinlian.types import SignedTransaction
from xinlian.types.trace import (
    UPLOAD_KEY_HEADER,
    UPLOAD_SIGNATURE_HEADER,
    UPLOAD_TIME_HEADER,
    CaptureArgs,
    UploadAuth,
)

log = logging.getLogger("xinlian.api")

BODIES: web.AppKey[BodyStore] = web.AppKey("bodies", BodyStore)
#: How far a signed upload's time may be from the node's clock (replay window).
UPLOAD_CLOCK_SKEW_MS = 300_000
#: Seconds between passes that purge bodies never anchored.
PURGE_INTERVAL_S = 60.0
HASH_PREFIX = "ni:///sha-256;"
HASH_SUFFIX = "?ver=CBV2.0"


def _reader(node: Node) -> Callable[[bytes], bytes | None]:
    state = node.chain.state
    prefix = NAME.encode() + b"/"
    return lambda key: state.get(prefix + key)


def _plan(doc: Any) -> CapturePlan:
    try:
        return plan_capture(doc)
    except EpcisError as exc:
        raise Problem(
            400,
            "Invalid EPCIS document",
            str(exc),
            "invalid_epcis",
            errors=[{"field": p.field, "reason": p.reason} for p in exc.problems],
        ) from None


def _summary_json(e: EventSummary) -> dict[str, Any]:
    return {
        "index": e.index,
        "hash": hash_uri(e.hash),
        "type": e.type,
        "time_ms": e.time_ms,
        "biz_step": e.biz_step,
        "read_point": e.read_point,
        "biz_location": e.biz_location,
    }


def _bodies(doc: dict[str, Any], plan: CapturePlan) -> list[tuple[bytes, bytes]]:
    context = doc.get("@context")
    out = []
    for e in plan.events:
        body = {"@context": context, **e.body} if context is not None else dict(e.body)
        out.append((e.hash, orjson.dumps(body)))
    return out


def _now_ms() -> int:
    return int(time.time() * 1000)


def _writer(node: Node, address: str) -> str:
    """The organisation of an active account that may store trace bodies (a writer or
    admin of an active member organisation); a 403 problem otherwise."""
    state = node.chain.state
    account = identity.load_account(state.get(b"identity/" + identity.account_key(address)))
    if account is None:
        raise Problem(
            Refusal.UNKNOWN_SENDER.status,
            "Forbidden",
            f"{address} is not a registered account",
            Refusal.UNKNOWN_SENDER.value,
        )
    if not account.active:
        raise Problem(
            Refusal.INACTIVE_SENDER.status,
            "Forbidden",
            f"{address} is a deactivated account",
            Refusal.INACTIVE_SENDER.value,
        )
    org = identity.load_org(state.get(b"identity/" + identity.org_key(account.org)))
    if org is None or not org.active:
        raise Problem(
            403,
            "Forbidden",
            f"{address} belongs to organisation {account.org!r}, which is not an active member",
            Refusal.INACTIVE_SENDER.value,
        )
    if not {Role.WRITER.value, Role.ADMIN.value} & set(account.roles):
        raise Problem(
            403,
            "Forbidden",
            f"account {address} lacks role 'writer' to store trace event bodies",
            Refusal.PERMISSION_DENIED.value,
        )
    return account.org


def _upload_sender(request: web.Request, raw: bytes) -> str:
    """The address that signed this upload request (see ``types.trace.UploadAuth``)."""
    node = request.app[NODE]
    suite = node.chain.suite
    key_hex = request.headers.get(UPLOAD_KEY_HEADER)
    time_text = request.headers.get(UPLOAD_TIME_HEADER)
    sig_hex = request.headers.get(UPLOAD_SIGNATURE_HEADER)
    if key_hex is None or time_text is None or sig_hex is None:
        raise Problem(
            401,
            "Unauthorized",
            f"storing bytes needs a signed request: send the {UPLOAD_KEY_HEADER}, "
            f"{UPLOAD_TIME_HEADER} and {UPLOAD_SIGNATURE_HEADER} headers (the SDK's "
            "trace.store_document does)",
            "unauthenticated",
        )
    public_key = parse_hex(key_hex, UPLOAD_KEY_HEADER, suite.public_key_size)
    signature = parse_hex(sig_hex, UPLOAD_SIGNATURE_HEADER)
    if not time_text.isdigit() or len(time_text) > 15:
        raise bad_request(f"{UPLOAD_TIME_HEADER} must be milliseconds since the epoch", "bad_param")
    time_ms = int(time_text)
    if abs(time_ms - _now_ms()) > UPLOAD_CLOCK_SKEW_MS:
        raise Problem(
            401,
            "Unauthorized",
            f"the signed time is more than {UPLOAD_CLOCK_SKEW_MS // 1000} s from the node's "
            "clock; sign the request again",
            "stale_request",
        )
    auth = UploadAuth(node.chain.chain_id, request.path, time_ms, suite.hash(raw))
    if not suite.verify(public_key, encode(auth), signature):
        raise Problem(
            401,
            "Unauthorized",
            "the signature does not verify for this key, chain, path, time and body",
            "bad_signature",
        )
    return address_of(suite, public_key)


def _store(request: web.Request, bodies: list[tuple[bytes, bytes]], address: str, org: str,
           *, dry_run: bool = False) -> None:  # fmt: skip
    try:
        request.app[BODIES].put(bodies, address, org, _now_ms(), dry_run=dry_run)
    except QuotaExceeded as exc:
        log.warning("upload refused: %s", exc)
        raise Problem(
            429, "Too Many Requests", str(exc), "quota_exceeded", retry_after_s=exc.retry_after_s
        ) from None


def parse_event_hash(text: str) -> bytes:
    """An event hash from 64 hex digits or its ``ni:///sha-256;<hex>?ver=CBV2.0`` URI."""
    text = unquote(text).strip()
    if text.startswith(HASH_PREFIX):
        text = text[len(HASH_PREFIX) :]
        text = text[: -len(HASH_SUFFIX)] if text.endswith(HASH_SUFFIX) else text
    return parse_hex(text.lower(), "event hash", 32)


# CAPTURE

JSON_TYPES = ("application/json", "application/ld+json", "")


async def _document_body(request: web.Request) -> dict[str, Any]:
    """A JSON object body sent as ``application/json`` or ``application/ld+json`` (what
    EPCIS 2.0 clients send)."""
    if request.content_type not in JSON_TYPES:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"send application/json or application/ld+json, not {request.content_type}",
            "media_type",
        )
    try:
        doc = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"body is not valid JSON: {exc}", "bad_json") from None
    if not isinstance(doc, dict):
        raise bad_request("body must be a JSON object", "bad_json")
    return doc


async def validate(request: web.Request) -> web.Response:
    """Validate an EPCIS document (the body); returns its events' hashes and summaries."""
    doc = await _document_body(request)
    plan = await asyncio.get_running_loop().run_in_executor(None, _plan, doc)
    return json_response({"valid": True, "events": [_summary_json(e) for e in plan.events]})


async def store_document(request: web.Request) -> web.Response:
    """Store the event bodies of a valid EPCIS document (``{"document": ...}``), signed
    by a writer; charged to its account's and organisation's quotas."""
    node = request.app[NODE]
    raw = await request.read()
    address = _upload_sender(request, raw)
    org = _writer(node, address)
    body = await _document_body(request)
    doc = body.get("document")
    if not isinstance(doc, dict):
        raise bad_request('body must be {"document": <EPCIS document>}', "bad_body")
    plan = await asyncio.get_running_loop().run_in_executor(None, _plan, doc)
    _store(request, _bodies(doc, plan), address, org)
    return json_response({"hashes": plan.hashes})


async def capture(request: web.Request) -> web.Response:
    """EPCIS capture: ``{"document": <EPCIS document>, "tx": <hex of the signed
    trace.capture transaction>}``. The transaction's arguments must be exactly the
    document's anchors (the node recomputes them). Returns the capture id (the
    transaction hash) and the event hashes."""
    node = request.app[NODE]
    body = await _document_body(request)
    doc, tx_hex = body.get("document"), body.get("tx")
    if not isinstance(doc, dict) or not isinstance(tx_hex, str):
        raise bad_request(
            'body must be {"document": <EPCIS document>, "tx": "<hex of the signed '
            'trace.capture transaction>"}',
            "bad_body",
        )
    raw = parse_hex(tx_hex, "tx")
    plan = await asyncio.get_running_loop().run_in_executor(None, _plan, doc)
    try:
        tx = decode(raw, SignedTransaction).tx
        args = decode(tx.args, CaptureArgs) if (tx.target, tx.method) == (NAME, "capture") else None
    except CodecError as exc:
        raise bad_request(f"tx is not a trace.capture transaction: {exc}", "bad_tx") from None
    if args is None:
        raise bad_request(f"tx calls {tx.target}.{tx.method}, not {NAME}.capture", "tx_mismatch")
    if args != plan.args:
        raise bad_request(
            "the transaction's anchors differ from the document's events (recompute them "
            "with xinlian.sdk.trace.plan_capture)",
            "tx_mismatch",
        )
    # The signed transaction authenticates the bodies: they are its sender's, stored
    # only once the mempool accepted it, within the sender's quotas.
    bodies = _bodies(doc, plan)
    sender = address_of(node.chain.suite, tx.sender)
    org = _writer(node, sender)
    _store(request, bodies, sender, org, dry_run=True)
    (result,) = await node.submit([raw])
    if isinstance(result, MempoolError):
        raise _submit_problem(result)
    _store(request, bodies, sender, org)
    return json_response({"capture_id": result.hex(), "hashes": plan.hashes}, status=202)


async def capture_status(request: web.Request) -> web.Response:
    """A capture's state: pending, or committed with its outcome."""
    node = request.app[NODE]
    chain = node.chain
    tx_hash = parse_hex(request.match_info["capture_id"].lower(), "capture id", 32)
    if not chain.ledger.has_tx(tx_hash):
        if tx_hash in chain.mempool:
            return json_response({"capture_id": tx_hash.hex(), "status": "pending"})
        raise not_found(f"no capture {tx_hash.hex()}")
    record = chain.ledger.tx(tx_hash)
    tx = record.tx.tx
    if (tx.target, tx.method) != (NAME, "capture"):
        raise not_found(f"transaction {tx_hash.hex()} is not a capture")
    args = decode(tx.args, CaptureArgs)
    receipt = record.receipt
    return json_response(
        {
            "capture_id": tx_hash.hex(),
            "status": "committed" if receipt.status == 0 else "failed",
            "height": record.height,
            "error": receipt.error,
            "hashes": [hash_uri(a.hash) for a in args.events],
        }
    )


# QUERIES


def _proof(node: Node, tx_hash: bytes) -> dict[str, Any]:
    """The on-chain proof of a transaction: raw transaction, receipt, Merkle paths to the
    header, the header and its commit certificate."""
    ledger = node.chain.ledger
    record = ledger.tx(tx_hash)
    _, tx_proof = ledger.tx_proof(tx_hash)
    _, receipt_proof = ledger.receipt_proof(tx_hash)
    header = ledger.header(record.height)
    return {
        "tx_hash": tx_hash.hex(),
        "tx_raw": record.raw.hex(),
        "height": record.height,
        "index": record.index,
        "tx_proof": to_builtins(tx_proof),
        "receipt": receipt_json(record.receipt),
        "receipt_proof": to_builtins(receipt_proof),
        "block_hash": node.chain.block_hash(header).hex(),
        "header": header_json(header),
        "commit": commit_json(ledger.commit(record.height)),
    }


def _body(node: Node, digest: bytes) -> Any:
    raw = node.store.get(BODY_PREFIX + digest)
    return None if raw is None else orjson.loads(raw)


def _event_doc(node: Node, digest: bytes) -> dict[str, Any]:
    record = load_event(_reader(node), digest)
    if record is None:
        raise not_found(f"event {hash_uri(digest)} is not anchored")
    out = event_json(record)
    out["hash_uri"] = hash_uri(digest)
    out["body"] = _body(node, digest)
    out["proof"] = _proof(node, record.tx_hash)
    return out


async def get_event(request: web.Request) -> web.Response:
    """An anchored event: summary, anchor, body (if stored here) and on-chain proof."""
    node = request.app[NODE]
    digest = parse_event_hash(request.match_info["hash"])
    doc = await asyncio.get_running_loop().run_in_executor(None, _event_doc, node, digest)
    return json_response(doc)


def _id_param(request: web.Request, name: str) -> str:
    value = request.query.get(name)
    if not value or len(value) > 512 or "\x00" in value:
        raise bad_request(f"query parameter {name} (1-512 characters) is required", "bad_param")
    return value


async def query_events(request: web.Request) -> web.Response:
    """Events naming an item (``epc``: any identifier form), optionally only those with a
    business step (``bizStep``) or in a time window (``GE_eventTime`` / ``LT_eventTime``
    in ms), oldest first; ``start``/``limit`` page through the item's list."""
    node = request.app[NODE]
    item = _id_param(request, "epc")
    step = request.query.get("bizStep")
    start = int_param(request, "start", 0, 0, 2**62)
    limit = int_param(request, "limit", 100, 1, 1000)
    ge = int_param(request, "GE_eventTime", 0, 0, 2**62)
    lt = int_param(request, "LT_eventTime", 2**62, 0, 2**62)
    get = _reader(node)

    def run() -> dict[str, Any]:
        canonical = resolve_id(get, item)
        hashes = listed(get, item_prefix(canonical), start, limit)
        events = []
        for h in hashes:
            record = load_event(get, h)
            if record is None:
                continue
            a = record.anchor
            if (step is None or a.biz_step == step) and ge <= a.time_ms < lt:
                events.append(event_json(record))
        return {"id": canonical, "start": start, "events": events}

    return json_response(await asyncio.get_running_loop().run_in_executor(None, run))


async def get_history(request: web.Request) -> web.Response:
    """An item's history: upstream (made from, packed in), downstream (made into: recall)
    or both; ``proofs=1`` adds each anchoring transaction's on-chain proof."""
    node = request.app[NODE]
    item = _id_param(request, "id")
    direction = request.query.get("direction", "both")
    if direction not in DIRECTIONS:
        raise bad_request(f"direction must be one of {list(DIRECTIONS)}", "bad_param")
    max_events = int_param(request, "max_events", 5000, 1, 20_000)
    proofs = request.query.get("proofs", "0")
    if proofs not in ("0", "1"):
        raise bad_request("proofs must be 0 or 1", "bad_param")

    def run() -> dict[str, Any]:
        result = history(_reader(node), item, direction, max_events)
        if proofs == "1":
            by_tx: dict[str, dict[str, Any]] = {}
            for e in result["events"]:
                tx = e["anchor"]["tx_hash"]
                if tx not in by_tx:
                    by_tx[tx] = _proof(node, bytes.fromhex(tx))
            result["proofs"] = by_tx
        return result

    return json_response(await asyncio.get_running_loop().run_in_executor(None, run))


async def _purge_loop(app: web.Application) -> None:
    node, bodies = app[NODE], app[BODIES]
    get = _reader(node)
    while True:
        await asyncio.sleep(PURGE_INTERVAL_S)
        kept, deleted = await asyncio.get_running_loop().run_in_executor(
            None, bodies.purge, _now_ms(), lambda d: load_event(get, d) is not None
        )
        if deleted:
            log.info("purged %d event bodies never anchored (%d anchored kept)", deleted, kept)


async def _body_store(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_purge_loop(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def install_body_store(app: web.Application, node: Node) -> None:
    """The off-chain body store with the node's quotas, and its purge task."""
    api = node.config.api
    app[BODIES] = BodyStore(
        node.store,
        BodyLimits(
            api.upload_quota_account_bytes,
            api.upload_quota_org_bytes,
            api.unanchored_retention_s * 1000,
        ),
    )
    app.cleanup_ctx.append(_body_store)


def routes(r: web.UrlDispatcher) -> None:
    """Add the trace routes."""
    r.add_post("/v1/trace/validate", validate)
    r.add_post("/v1/trace/documents", store_document)
    r.add_post("/v1/trace/capture", capture)
    r.add_get("/v1/trace/capture/{capture_id}", capture_status)
    r.add_get("/v1/trace/events", query_events)
    r.add_get("/v1/trace/events/{hash}", get_event)
    r.add_get("/v1/trace/history", get_history)
