"""The aiohttp application: routes and the serve loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web

from xinlian.api.contracts import contract_events, get_contract, get_contract_code, query_contract
from xinlian.api.evidence import (
    TSA,
    get_custody,
    get_evidence,
    get_receipt,
    get_timestamp,
    list_evidence,
    load_node_tsa,
    post_timestamp,
    post_tsa,
)
from xinlian.api.explorer import routes as explorer_routes
from xinlian.api.health import healthz, readyz, storage_guard
from xinlian.api.limits import (
    RESERVED_FDS,
    ConnectionGuard,
    ConnectionLimits,
    body_timeout_middleware,
    raise_file_limit,
)
from xinlian.api.middleware import problem_middleware
from xinlian.api.queries import install as install_queries
from xinlian.api.ratelimit import RateLimiter
from xinlian.api.reads import (
    account,
    equivocations,
    events,
    genesis,
    get_block,
    get_block_by_hash,
    get_state,
    metrics,
    openapi,
    query,
    status,
    validator_changes,
    validators,
)
from xinlian.api.request import LIMITER, NODE
from xinlian.api.stream import websocket
from xinlian.api.trace import install_body_store
from xinlian.api.trace import routes as trace_routes
from xinlian.api.transactions import get_tx, simulate_tx, submit_batch, submit_tx
from xinlian.node.runtime import Node


def create_app(node: Node) -> web.Application:
    """The API application for ``node``."""
    app = web.Application(
        middlewares=[
            problem_middleware,
            storage_guard,
            body_timeout_middleware(node.config.api.body_timeout_s),
        ],
        client_max_size=node.config.api.max_body_bytes,
    )
    app[NODE] = node
    app[LIMITER] = RateLimiter(node.config.api.rate_limit, node.config.api.rate_burst)
    app[TSA] = load_node_tsa(node)
    install_queries(app)  # contract and app queries run in a bounded worker pool
    r = app.router
    r.add_get("/healthz", healthz)
    r.add_get("/readyz", readyz)
    r.add_get("/metrics", metrics)
    r.add_get("/v1/openapi.json", openapi)
    r.add_get("/v1/status", status)
    r.add_get("/v1/genesis", genesis)
    r.add_get("/v1/validators", validators)
    r.add_get("/v1/consensus/equivocations", equivocations)
    r.add_get("/v1/validators/changes", validator_changes)
    r.add_post("/v1/transactions", submit_tx)
    r.add_post("/v1/transactions/batch", submit_batch)
    r.add_post("/v1/transactions/simulate", simulate_tx)
    # Any segment but the POST routes' names: a malformed hash is a 400, not a 404.
    r.add_get("/v1/transactions/{hash:(?!(?:batch|simulate)$)[^/]+}", get_tx)
    r.add_get("/v1/blocks/by-hash/{hash}", get_block_by_hash)
    r.add_get("/v1/blocks/{height}", get_block)
    r.add_get("/v1/state/{key:.+}", get_state)
    r.add_post("/v1/query", query)
    r.add_get("/v1/accounts/{address}", account)
    r.add_get("/v1/events", events)
    r.add_get("/v1/ws", websocket)
    r.add_get("/v1/evidence", list_evidence)
    r.add_get("/v1/evidence/{digest}", get_evidence)
    r.add_get("/v1/evidence/{digest}/custody", get_custody)
    r.add_get("/v1/evidence/{digest}/receipt", get_receipt)
    trace_routes(r)
    install_body_store(app, node)
    r.add_get("/v1/evidence/{digest}/timestamp", get_timestamp)
    r.add_post("/v1/evidence/{digest}/timestamp", post_timestamp)
    r.add_post("/v1/tsa", post_tsa)
    r.add_get("/v1/contracts/{address}", get_contract)
    r.add_get("/v1/contracts/{address}/code", get_contract_code)
    r.add_get("/v1/contracts/{address}/events", contract_events)
    r.add_post("/v1/contracts/{address}/query", query_contract)
    explorer_routes(r)
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
    api = node.config.api
    guard = ConnectionGuard(
        ConnectionLimits(
            max_connections=api.max_connections,
            max_connections_per_client=api.max_connections_per_client,
            header_timeout_s=api.header_timeout_s,
            body_timeout_s=api.body_timeout_s,
            idle_timeout_s=api.idle_timeout_s,
        )
    )
    raise_file_limit(api.max_connections + RESERVED_FDS)
    # Request lines up to 32 KiB: long percent-encoded identifiers in queries still get a
    # problem+json answer from the handlers instead of a bare 400 from the HTTP parser.
    runner = web.AppRunner(
        create_app(node),
        access_log=None,
        handle_signals=False,
        max_line_size=32768,
        keepalive_timeout=api.idle_timeout_s,
    )
    server: asyncio.Server | None = None
    try:
        await node.start()
        await runner.setup()
        handler = runner.server
        assert handler is not None
        # The listening socket is ours (not a TCPSite) so each connection goes through
        # the guard: caps per client and in total, and the header timeout.
        server = await asyncio.get_running_loop().create_server(
            guard.wrap(handler),
            host or api.host,
            api.port if port is None else port,
            reuse_address=True,
            # Room for bursts of new connections while the loop is busy; the guard, not
            # a full accept queue, decides who is refused.
            backlog=1024,
        )
        sockets = server.sockets
        bound = int(sockets[0].getsockname()[1]) if sockets else (port or api.port)
        if ready is not None:
            ready(bound)
        await asyncio.Event().wait()
    finally:
        # Also on a failed start (port in use) or a cancel before ready: close everything.
        if server is not None:
            server.close()
        await runner.cleanup()
        await node.stop()
