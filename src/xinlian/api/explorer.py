"""The block explorer's static files at ``/explorer/`` (``/`` redirects there)."""

from __future__ import annotations

from aiohttp import web

from xinlian.api.problems import not_found
from xinlian.console import asset

#: Assets revalidate on every load (cheap 304s): a node upgrade must never show stale code.
#: The policy keeps the explorer's scripts to this origin; the API and its WebSocket are
#: the only network peers.
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}


async def explorer_file(request: web.Request) -> web.StreamResponse:
    """One asset of the explorer (``index.html`` for the bare path)."""
    relative = request.match_info.get("path", "")
    found = asset(relative)
    if found is None:
        raise not_found(f"no explorer file {relative[:80]!r}")
    path, content_type = found
    return web.FileResponse(path, headers={**HEADERS, "Content-Type": content_type})


async def to_explorer(request: web.Request) -> web.Response:
    """The root redirects to the explorer."""
    raise web.HTTPFound("/explorer/")


def routes(r: web.UrlDispatcher) -> None:
    """Add the explorer's routes."""
    r.add_get("/", to_explorer)
    r.add_get("/explorer", to_explorer)
    r.add_get("/explorer/{path:.*}", explorer_file)
