"""Request parsing and JSON responses shared by the handlers, and the app's keys."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from xinlian.api.problems import Problem, bad_request
from xinlian.api.ratelimit import RateLimiter
from xinlian.node.runtime import Node

NODE: web.AppKey[Node] = web.AppKey("node", Node)
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter", RateLimiter)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def parse_hex(value: str, what: str, size: int | None = None) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise bad_request(f"{what} must be hex, got {value[:80]!r}", "bad_hex") from None
    if size is not None and len(raw) != size:
        raise bad_request(f"{what} must be {size} bytes ({2 * size} hex digits)", "bad_hex")
    return raw


def int_param(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
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


async def json_body(request: web.Request) -> dict[str, Any]:
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
