"""Middleware that turns every error into an application/problem+json response."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

from aiohttp import web

from xinlian.api.problems import Problem, not_found
from xinlian.api.request import LIMITER
from xinlian.codec import CodecError
from xinlian.ledger import LedgerError, NotFound
from xinlian.storage import StorageError

log = logging.getLogger("xinlian.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    except StorageError as exc:
        log.exception("storage error serving %s", request.path)
        return Problem(
            500, "Internal Server Error", f"storage error: {exc}", "storage_error"
        ).response(request.path)
    except Exception as exc:  # the last resort: never a bare text/plain 500
        log.exception("unexpected error serving %s", request.path)
        return Problem(
            500,
            "Internal Server Error",
            f"unexpected error ({type(exc).__name__}); the node's log has the details",
            "internal",
        ).response(request.path)
