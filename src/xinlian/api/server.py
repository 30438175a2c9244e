"""The aiohttp application: routes, validation, problem responses, WebSocket, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import orjson
from aiohttp import WSMsgType, web

from xinlian import __version__
from xinlian.api.problems import Problem, bad_request, not_found
from xinlian.api.ratelimit import RateLimiter
from xinlian.api.spec import openapi_spec
from xinlian.api.views import block_json, commit_json, header_json, receipt_json, tx_json
from xinlian.apps.identity import account_key, load_account
from xinlian.codec import CodecError, encode, encode_args, to_builtins
from xinlian.execution import QueryError
from xinlian.ledger import LedgerError, NotFound
from xinlian.mempool import MempoolError
from xinlian.node.runtime import Node
from xinlian.state import PrunedVersionError, VersionError

log = logging.getLogger("xinlian.api")

NODE: web.AppKey[Node] = web.AppKey("node", Node)
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter", RateLimiter)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Most events sent per block over the WebSocket (the rest: GET /v1/events).
WS_MAX_EVENTS = 1000

_REASON_STATUS = {"full": 503, "duplicate": 409, "nonce_taken": 409, "too_large": 413}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _hex(value: str, what: str, size: int | None = None) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise bad_request(f"{what} must be hex, got {value[:80]!r}", "bad_hex") from None
    if size is not None and len(raw) != size:
        raise bad_request(f"{what} must be {size} bytes ({2 * size} hex digits)", "bad_hex")
    return raw


def _int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"query parameter {name} must be an integer", "bad_param") from None
    if not lo <= value <= hi:
        raise bad_request(f"query parameter {name} must be between {lo} and {hi}", "bad_param")
    return value


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type not in ("application/json", ""):
        raise Problem(
            415,
            "Unsupported Media Type",
            f"send application/json, not {request.content_type}",
            "media_type",
        )
    raw = await request.read()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"body is not valid JSON: {exc}", "bad_json") from None
    if not isinstance(doc, dict):
        raise bad_request("body must be a JSON object", "bad_json")
    return doc


def _submit_problem(exc: MempoolError) -> Problem:
    status = _REASON_STATUS.get(exc.reason, 400 if exc.reason != "refused" else 403)
    title = "Transaction refused"
    return Problem(status, title, str(exc), exc.reason)


# HANDLERS


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the node answers and knows its height."""
    node = request.app[NODE]
    return _json({"status": "ok", "height": node.chain.height})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    node = request.app[NODE]
    return web.Response(
        body=node.metrics.render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.0 description of this API."""
    return _json(openapi_spec())


async def status(request: web.Request) -> web.Response:
    """Chain and node status."""
    node = request.app[NODE]
    chain = node.chain
    header = chain.last_header()
    return _json(
        {
            "chain_id": chain.chain_id,
            "suite": chain.suite.name,
            "genesis_hash": chain.genesis_hash.hex(),
            "height": chain.height,
            "latest_block_hash": chain.suite.hash(encode(header)).hex() if header else None,
            "latest_time_ms": header.time_ms if header else node.genesis.time_ms,
            "state_root": chain.state_root().hex(),
            "mempool_size": len(chain.mempool),
            "node": node.config.name,
            "validator": node.key.public_key.hex(),
            "version": __version__,
        }
    )


async def genesis(request: web.Request) -> web.Response:
    """The genesis document."""
    node = request.app[NODE]
    return _json(msgspec.to_builtins(node.genesis))


async def validators(request: web.Request) -> web.Response:
    """The current validator set."""
    chain = request.app[NODE].chain
    return _json(
        {
            "validators": [to_builtins(v) for v in chain.validators.validators],
            "hash": chain.validators_hash.hex(),
        }
    )


async def submit_tx(request: web.Request) -> web.Response:
    """Submit one signed transaction (hex of its canonical bytes)."""
    doc = await _body(request)
    raw_hex = doc.get("tx")
    if not isinstance(raw_hex, str):
        raise bad_request('body must be {"tx": "<hex of the signed transaction>"}', "bad_body")
    raw = _hex(raw_hex, "tx")
    (result,) = await request.app[NODE].submit([raw])
    if isinstance(result, MempoolError):
        raise _submit_problem(result)
    return _json({"hash": result.hex()}, status=202)


async def submit_batch(request: web.Request) -> web.Response:
    """Submit many signed transactions; one result per transaction, in order."""
    node = request.app[NODE]
    raws: list[bytes]
    if request.content_type == "application/msgpack":
        try:
            raws = msgspec.msgpack.decode(await request.read(), type=list[bytes])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise bad_request(f"body must be a msgpack array of bin: {exc}", "bad_body") from None
    else:
        doc = await _body(request)
        txs = doc.get("txs")
        if not isinstance(txs, list) or not all(isinstance(t, str) for t in txs):
            raise bad_request('body must be {"txs": ["<hex>", ...]}', "bad_body")
        raws = [_hex(t, f"txs[{i}]") for i, t in enumerate(txs)]
    if len(raws) > node.config.api.max_batch:
        raise Problem(
            413,
            "Payload Too Large",
            f"batch of {len(raws)} transactions; limit {node.config.api.max_batch}",
            "batch_too_large",
        )
    results = await node.submit(raws)
    out: list[dict[str, Any]] = []
    accepted = 0
    for r in results:
        if isinstance(r, MempoolError):
            out.append({"error": {"reason": r.reason, "detail": str(r)}})
        else:
            accepted += 1
            out.append({"hash": r.hex()})
    return _json({"accepted": accepted, "results": out})


async def get_tx(request: web.Request) -> web.Response:
    """A transaction with its receipt and proofs, or its pending status."""
    node = request.app[NODE]
    chain = node.chain
    tx_hash = _hex(request.match_info["hash"], "transaction hash", 32)
    if not chain.ledger.has_tx(tx_hash):
        if tx_hash in chain.mempool:
            return _json({"hash": tx_hash.hex(), "status": "pending"})
        raise not_found(f"no transaction {tx_hash.hex()} (neither committed nor pending)")
    record = chain.ledger.tx(tx_hash)
    _, tx_proof = chain.ledger.tx_proof(tx_hash)
    _, receipt_proof = chain.ledger.receipt_proof(tx_hash)
    header = chain.ledger.header(record.height)
    return _json(
        {
            "hash": tx_hash.hex(),
            "status": "committed",
            "height": record.height,
            "index": record.index,
            "tx": tx_json(record.tx),
            "raw": record.raw.hex(),
            "receipt": receipt_json(record.receipt),
            "proof": {
                "block_hash": chain.suite.hash(encode(header)).hex(),
                "header": header_json(header),
                "commit": commit_json(chain.ledger.commit(record.height)),
                "tx_proof": to_builtins(tx_proof),
                "receipt_proof": to_builtins(receipt_proof),
            },
        }
    )


async def get_block(request: web.Request) -> web.Response:
    """A block by height or ``latest``."""
    chain = request.app[NODE].chain
    which = request.match_info["height"]
    if which == "latest":
        height = chain.height
    else:
        try:
            height = int(which)
        except ValueError:
            raise bad_request("height must be an integer or 'latest'", "bad_param") from None
    if height < 1 or height > chain.height:
        raise not_found(f"no block at height {height}; the chain is at {chain.height}")
    return _json(block_json(chain.ledger.block(height)))


async def get_block_by_hash(request: web.Request) -> web.Response:
    """A block by its hash."""
    chain = request.app[NODE].chain
    block_hash = _hex(request.match_info["hash"], "block hash", 32)
    return _json(block_json(chain.ledger.block(chain.ledger.height_of(block_hash))))


async def get_state(request: web.Request) -> web.Response:
    """A state value with its proof against the state root at a height."""
    chain = request.app[NODE].chain
    key_text = request.match_info["key"]
    encoding = request.query.get("encoding", "utf8")
    if encoding == "hex":
        key = _hex(key_text, "key")
    elif encoding == "utf8":
        key = key_text.encode()
    else:
        raise bad_request("encoding must be utf8 or hex", "bad_param")
    if not key or len(key) > 1024:
        raise bad_request("key must be 1-1024 bytes", "bad_param")
    height = _int_param(request, "height", chain.height, 0, 2**63 - 1)
    try:
        at, value, proof = chain.prove_state(key, height)
    except PrunedVersionError as exc:
        raise Problem(410, "Gone", str(exc), "pruned") from None
    except VersionError as exc:
        raise not_found(str(exc)) from None
    header = chain.ledger.header(at) if at > 0 else None
    return _json(
        {
            "key": key.hex(),
            "height": at,
            "value": None if value is None else value.hex(),
            "proof": to_builtins(proof),
            "state_root": chain.state_root(at).hex(),
            "header": header_json(header) if header else None,
            "block_hash": chain.suite.hash(encode(header)).hex() if header else None,
        }
    )


async def query(request: web.Request) -> web.Response:
    """Run a read-only app method."""
    doc = await _body(request)
    target, method, args = doc.get("target"), doc.get("method"), doc.get("args", {})
    if not isinstance(target, str) or not isinstance(method, str):
        raise bad_request('body must be {"target": str, "method": str, "args": ...}', "bad_body")
    if isinstance(args, str):
        raw_args = _hex(args, "args")
    elif isinstance(args, dict):
        try:
            raw_args = encode_args(args)
        except CodecError as exc:
            raise bad_request(str(exc), "bad_args") from None
    else:
        raise bad_request("args must be hex of canonical args or a JSON object", "bad_args")
    try:
        result = request.app[NODE].chain.query(target, method, raw_args)
    except QueryError as exc:
        raise bad_request(str(exc), "bad_query") from None
    return _json({"result": to_builtins(result)})


async def account(request: web.Request) -> web.Response:
    """An account record and its next nonce."""
    chain = request.app[NODE].chain
    address = request.match_info["address"].lower()
    _hex(address, "address", 20)
    record = load_account(chain.state.get(b"identity/" + account_key(address)))
    return _json(
        {
            "address": address,
            "nonce": chain.next_nonce(address),
            "account": None if record is None else to_builtins(record),
        }
    )


async def events(request: web.Request) -> web.Response:
    """Events of one type, from a height on."""
    chain = request.app[NODE].chain
    event_type = request.query.get("type")
    if not event_type or len(event_type) > 128 or "\x00" in event_type:
        raise bad_request("query parameter type (1-128 characters) is required", "bad_param")
    from_height = _int_param(request, "from_height", 0, 0, 2**63 - 1)
    limit = _int_param(request, "limit", 100, 1, 1000)
    found = [
        {"height": h, "tx_hash": tx_hash.hex(), "type": ev.type, "attributes": ev.attributes}
        for h, tx_hash, ev in chain.ledger.events(event_type, from_height, limit)
    ]
    return _json({"events": found})


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Push every committed block with its events to the client."""
    node = request.app[NODE]
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
    await ws.prepare(request)
    queue = node.subscribe()

    async def pump() -> None:
        while True:
            block = await queue.get()
            events = itertools.islice(
                (
                    {"tx_hash": r.tx_hash.hex(), "type": e.type, "attributes": e.attributes}
                    for r in block.result.receipts
                    for e in r.events
                ),
                WS_MAX_EVENTS,
            )
            message = {
                "type": "block",
                "height": block.header.height,
                "hash": block.hash.hex(),
                "time_ms": block.header.time_ms,
                "txs": len(block.txs),
                "events": list(events),
            }
            await ws.send_str(orjson.dumps(message).decode())

    sender = asyncio.create_task(pump())
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await sender
        node.unsubscribe(queue)
    return ws


# MIDDLEWARE


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as problem+json; never let an exception become a bare 500."""
    try:
        wait = request.app[LIMITER].allow(request.remote or "")
        if wait > 0:
            response = Problem(
                429,
                "Too Many Requests",
                f"request rate limit reached; retry in {wait:.2f}s",
                "rate_limited",
            ).response(request.path)
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        return await handler(request)
    except Problem as problem:
        return problem.response(request.path)
    except NotFound as exc:
        return not_found(str(exc)).response(request.path)
    except web.HTTPRequestEntityTooLarge as exc:
        return Problem(
            413, "Payload Too Large", exc.text or "request body too large", "too_large"
        ).response(request.path)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = Problem(
            exc.status, exc.reason, exc.text or exc.reason, exc.reason.lower().replace(" ", "_")
        ).response(request.path)
        for name in ("Allow", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except (LedgerError, CodecError) as exc:
        log.exception("data error serving %s", request.path)
        return Problem(
            500, "Internal Server Error", f"stored data error: {exc}", "internal"
        ).response(request.path)


def create_app(node: Node) -> web.Application:
    """The API application for ``node``."""
    app = web.Application(
        middlewares=[problem_middleware], client_max_size=node.config.api.max_body_bytes
    )
    app[NODE] = node
    app[LIMITER] = RateLimiter(node.config.api.rate_limit, node.config.api.rate_burst)
    r = app.router
    r.add_get("/healthz", healthz)
    r.add_get("/metrics", metrics)
    r.add_get("/v1/openapi.json", openapi)
    r.add_get("/v1/status", status)
    r.add_get("/v1/genesis", genesis)
    r.add_get("/v1/validators", validators)
    r.add_post("/v1/transactions", submit_tx)
    r.add_post("/v1/transactions/batch", submit_batch)
    r.add_get("/v1/transactions/{hash:[0-9a-fA-F]*}", get_tx)
    r.add_get("/v1/blocks/by-hash/{hash}", get_block_by_hash)
    r.add_get("/v1/blocks/{height}", get_block)
    r.add_get("/v1/state/{key:.+}", get_state)
    r.add_post("/v1/query", query)
    r.add_get("/v1/accounts/{address}", account)
    r.add_get("/v1/events", events)
    r.add_get("/v1/ws", websocket)
    return app


async def serve(
    node: Node,
    host: str | None = None,
    port: int | None = None,
    ready: Callable[[int], None] | None = None,
) -> None:
    """Start ``node`` and its API; run until cancelled, then stop both cleanly.

    ``ready`` is called with the bound port once the server listens (useful with port 0).
    """
    runner = web.AppRunner(create_app(node), access_log=None, handle_signals=False)
    try:
        await node.start()
        await runner.setup()
        site = web.TCPSite(
            runner, host or node.config.api.host, node.config.api.port if port is None else port
        )
        await site.start()
        addresses = runner.addresses
        bound = int(addresses[0][1]) if addresses else (port or node.config.api.port)
        if ready is not None:
            ready(bound)
        await asyncio.Event().wait()
    finally:
        # Also on a failed start (port in use) or a cancel before ready: close everything.
        await runner.cleanup()
        await node.stop()
