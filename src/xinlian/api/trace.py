"""Traceability routes: EPCIS 2.0 capture and validation, the off-chain event-body store,
and queries in the spirit of the EPCIS Query interface (events by item, history, proofs).

The event *bodies* live off chain in this node's key-value store under ``T/<hash>``: the
event as captured, with its document's ``@context`` so that anyone holding the body can
recompute the CBV 2.0 hash. The chain holds only the hashes and summaries (the ``trace``
app). A body is accepted only inside a valid EPCIS document, and is served with the
event's on-chain proof.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import orjson
from aiohttp import web

from xinlian.api.problems import Problem, bad_request, not_found
from xinlian.api.request import NODE, int_param, json_response, parse_hex
from xinlian.api.transactions import _submit_problem
from xinlian.api.views import commit_json, header_json, receipt_json
from xinlian.apps.trace.app import NAME, event_json, item_prefix, listed, load_event, resolve_id
from xinlian.apps.trace.history import DIRECTIONS, history
from xinlian.codec import CodecError, decode, to_builtins
from xinlian.gs1.epcis import EpcisError, EventSummary
from xinlian.gs1.eventhash import hash_uri
from xinlian.mempool import MempoolError
from xinlian.node.runtime import Node
from xinlian.sdk.trace import CapturePlan, plan_capture
from xinlian.storage import WriteBatch
from xinlian.types import SignedTransaction
from xinlian.types.trace import CaptureArgs

BODY_PREFIX = b"T/"
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


def _store_bodies(node: Node, doc: dict[str, Any], plan: CapturePlan) -> None:
    context = doc.get("@context")
    batch = WriteBatch()
    for e in plan.events:
        body = {"@context": context, **e.body} if context is not None else dict(e.body)
        batch.put(BODY_PREFIX + e.hash, orjson.dumps(body))
    node.store.write(batch)


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
    """Store the event bodies of a valid EPCIS document (``{"document": ...}``)."""
    node = request.app[NODE]
    body = await _document_body(request)
    doc = body.get("document")
    if not isinstance(doc, dict):
        raise bad_request('body must be {"document": <EPCIS document>}', "bad_body")
    plan = await asyncio.get_running_loop().run_in_executor(None, _plan, doc)
    _store_bodies(node, doc, plan)
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
    _store_bodies(node, doc, plan)
    (result,) = await node.submit([raw])
    if isinstance(result, MempoolError):
        raise _submit_problem(result)
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


def routes(r: web.UrlDispatcher) -> None:
    """Add the trace routes."""
    r.add_post("/v1/trace/validate", validate)
    r.add_post("/v1/trace/documents", store_document)
    r.add_post("/v1/trace/capture", capture)
    r.add_get("/v1/trace/capture/{capture_id}", capture_status)
    r.add_get("/v1/trace/events", query_events)
    r.add_get("/v1/trace/events/{hash}", get_event)
    r.add_get("/v1/trace/history", get_history)
