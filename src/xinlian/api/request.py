"""Request parsing and JSON responses shared by the handlers, and the app's keys."""

from __future__ import annotations

import json
from typing import Any

import orjson
from aiohttp import web

from xinlian.api.problems import Problem, bad_request
from xinlian.api.ratelimit import RateLimiter
from xinlian.codec.canonical import MAX_INT, MIN_INT
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
    doc = loads_exact(await request.read())
    if not isinstance(doc, dict):
        raise bad_request("body must be a JSON object", "bad_json")
    return doc


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    return False


def _check_ints(value: Any, path: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise bad_request(
                f"{path}: integer out of range ({MIN_INT} to {MAX_INT}): {str(value)[:40]}",
                "integer_out_of_range",
            )
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_ints(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_ints(item, f"{path}.{key}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads_exact(raw: bytes) -> Any:
    """Parse a JSON body keeping integers exact: orjson reads integers beyond 64 bits as
    floats, so a body that holds any float is read again with exact integers, and an
    integer outside the 64-bit range is refused as such (``integer_out_of_range``), not
    as a float."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"body is not valid JSON: {exc}", "bad_json") from None
    if _has_float(doc):
        try:
            doc = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise bad_request(f"body is not valid JSON: {exc}", "bad_json") from None
        _check_ints(doc, "body")
    return doc
