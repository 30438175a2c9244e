"""REST + WebSocket API of a node (aiohttp), described by OpenAPI at ``/v1/openapi.json``.

Errors are ``application/problem+json`` documents (RFC 9457) with a ``reason`` code.
"""

from xinlian.api.server import create_app, serve

__all__ = ["create_app", "serve"]
