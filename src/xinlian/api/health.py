"""Health and readiness that tell the truth, and refusing writes when the disk is full.

* ``GET /healthz`` (liveness): 200 while the node can write; 503 once a storage failure
  stopped it (the process then exits).
* ``GET /readyz`` (readiness): 200 when the node can serve current answers; 503 with the
  reasons when it cannot write, is behind its own record (its database lost blocks), lags
  its best peer by more than ``max_lag_blocks``, or has no peers while it needs some.
* Client writes (``POST`` outside the read-only routes) get 503 with a reason while the
  data disk has less than ``min_free_bytes`` free or the node has stopped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from xinlian.api.problems import Problem
from xinlian.api.request import NODE, json_response

#: POST routes that only read (never refused for lack of disk space).
READ_ONLY_POSTS = ("/v1/query", "/v1/trace/validate")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the node answers, knows its height and can write."""
    node = request.app[NODE]
    problem = node.health()
    if problem is not None:
        raise Problem(503, "Service Unavailable", problem, "storage_failure")
    return json_response({"status": "ok", "height": node.chain.height})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the node serves current answers."""
    node = request.app[NODE]
    reasons = node.not_ready()
    if reasons:
        raise Problem(
            503,
            "Service Unavailable",
            "; ".join(reasons),
            "not_ready",
            reasons=reasons,
            height=node.chain.height,
        )
    return json_response({"status": "ready", "height": node.chain.height})


def _is_write(request: web.Request) -> bool:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return False
    path = request.path
    return not (path in READ_ONLY_POSTS or path.endswith("/query"))


@web.middleware
async def storage_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse client writes while the node cannot store them (503, problem+json)."""
    if _is_write(request):
        refusal = request.app[NODE].write_refusal()
        if refusal is not None:
            raise Problem(503, "Service Unavailable", refusal, "storage_unavailable")
    return await handler(request)
