"""``application/problem+json`` error responses (RFC 9457)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

PROBLEM_TYPE = "application/problem+json"


class Problem(Exception):  # noqa: N818 - a problem document, named by RFC 9457
    """Raised inside handlers; the middleware renders it as a problem document."""

    def __init__(
        self, status: int, title: str, detail: str, reason: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.reason = reason
        self.extra = extra

    def response(self, instance: str = "") -> web.Response:
        """The HTTP response for this problem."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.reason:
            body["reason"] = self.reason
        body.update(self.extra)
        return web.Response(status=self.status, body=orjson.dumps(body), content_type=PROBLEM_TYPE)


def bad_request(detail: str, reason: str = "bad_request") -> Problem:
    """400 with a reason code."""
    return Problem(400, "Bad Request", detail, reason)


def not_found(detail: str) -> Problem:
    """404."""
    return Problem(404, "Not Found", detail, "not_found")
