"""The WebSocket stream of committed blocks and their events."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import orjson
from aiohttp import WSMsgType, web

from xinlian.api.request import NODE

#: Most events sent per block over the WebSocket (the rest: GET /v1/events).
WS_MAX_EVENTS = 1000


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
