"""Slow and idle clients against a live node's API over real sockets on 127.0.0.x:
connection caps per client and in total, header, body and idle timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import resource
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from xinlian.api.limits import ConnectionGuard, ConnectionLimits, raise_file_limit

API_CONFIG = {
    "header_timeout_s": 1,
    "body_timeout_s": 1,
    "idle_timeout_s": 4,
    "max_connections": 150,
    "max_connections_per_client": 100,
}
#: Longest wait for something the server should do after a 1-2 s timeout.
WAIT_S = 15.0


def _port(live: Any) -> int:
    return int(live.url.rsplit(":", 1)[1])


def _connect(live: Any, source: str) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", _port(live)))
    return s


def _closed(s: socket.socket, wait: float) -> bool:
    """Whether the server closed ``s`` within ``wait`` seconds (EOF or reset)."""
    s.settimeout(wait)
    try:
        return s.recv(65536) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def _get_status(live: Any, source: str = "127.0.0.1") -> int:
    s = _connect(live, source)
    try:
        s.settimeout(WAIT_S)
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return int(data.split(b" ", 2)[1])
    finally:
        s.close()


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for s in opened:
        s.close()


# The first test: each bound logs at most once per 10 s, and this one checks its line.
def test_slowloris_headers_are_cut_off(
    live_node_with_api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="xinlian.api")
    s = _connect(live_node_with_api, "127.0.0.3")
    try:
        s.sendall(b"GET /v1/status HTTP/1.1\r\n")
        closed = False
        for i in range(int(WAIT_S / 0.25)):  # one header line every 0.25 s, never ending
            try:
                s.sendall(f"X-Slow-{i}: 1\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if _closed(s, 0.25):
                closed = True
                break
        assert closed
        assert "header_timeout_s" in caplog.text
    finally:
        s.close()


def _status_of_reply(s: socket.socket, deadline: float) -> int:
    """The status of the response on ``s`` (0 if the server closed it instead)."""
    s.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        data = s.recv(65536)
    except (ConnectionResetError, BrokenPipeError):
        return 0
    return int(data.split(b" ", 2)[1]) if data else 0


def test_one_client_cannot_hold_more_than_its_share(
    live_node_with_api: Any, sockets: list[socket.socket], caplog: pytest.LogCaptureFixture
) -> None:
    live = live_node_with_api
    caplog.set_level(logging.WARNING, logger="xinlian.api")
    for _ in range(300):  # a kept-alive request on each: the admitted ones answer it
        s = _connect(live, "127.0.0.2")
        sockets.append(s)
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
    deadline = time.monotonic() + WAIT_S
    statuses = [_status_of_reply(s, deadline) for s in sockets]
    assert statuses.count(200) == 100 and statuses.count(0) == 200
    # A new client is served while that one holds its 100; they close when idle.
    assert _get_status(live) == 200
    assert all(_closed(s, WAIT_S) for s, st in zip(sockets, statuses, strict=True) if st == 200)
    assert _get_status(live, "127.0.0.2") == 200
    assert "max_connections_per_client" in caplog.text


def test_a_slow_body_gets_408_and_the_connection_closes(live_node_with_api: Any) -> None:
    s = _connect(live_node_with_api, "127.0.0.4")
    try:
        s.settimeout(WAIT_S)
        s.sendall(
            b"POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"tar'
        )
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        assert b"application/problem+json" in head
        assert json.loads(body)["reason"] == "body_timeout"
    finally:
        s.close()


def test_idle_keep_alive_connections_are_closed(live_node_with_api: Any) -> None:
    s = _connect(live_node_with_api, "127.0.0.5")
    try:
        s.settimeout(WAIT_S)
        s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        assert _closed(s, WAIT_S)  # idle_timeout_s = 4
    finally:
        s.close()


def test_the_open_file_limit_is_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip(f"hard open-file limit {hard} leaves nothing to raise")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert raise_file_limit(1000) == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 256), hard))


class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


@pytest.mark.skipif(sys.platform == "win32", reason="node processes use uvloop on POSIX")
def test_the_guard_runs_on_uvloop_as_node_processes_do() -> None:
    import uvloop

    guard = ConnectionGuard(ConnectionLimits(max_connections_per_client=2, header_timeout_s=30))

    async def main() -> list[bytes]:
        server = await asyncio.get_running_loop().create_server(guard.wrap(_Echo), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        answers = []
        streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for reader, writer in streams:
            writer.write(b"ping\r\n\r\n")
            try:
                answers.append(await asyncio.wait_for(reader.read(100), 5))
            except ConnectionResetError:
                answers.append(b"")
            except TimeoutError:
                answers.append(b"(no answer)")
            writer.transport.abort()
        server.close()
        return answers

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(main()) == [b"ping\r\n\r\n", b"ping\r\n\r\n", b""]


def test_at_the_total_cap_the_oldest_idle_connection_makes_room() -> None:
    guard = ConnectionGuard(ConnectionLimits(max_connections=3, header_timeout_s=30))

    async def main() -> tuple[bytes, bytes, list[bytes]]:
        server = await asyncio.get_running_loop().create_server(guard.wrap(_Echo), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        await asyncio.sleep(0.1)  # accepted in this order before the next ones
        busy = await asyncio.open_connection("127.0.0.1", port)
        busy[1].write(b"GET / HTTP/1.1\r\n\r\n")  # a complete request head: not idle
        assert await asyncio.wait_for(busy[0].read(100), 5)
        newcomer = await asyncio.open_connection("127.0.0.1", port)
        newcomer[1].write(b"ping\r\n\r\n")
        answer = await asyncio.wait_for(newcomer[0].read(100), 5)
        oldest = await _read_or_reset(idle[0][0])  # closed to make room
        others = [await _read_or_reset(r, 0.2) for r, _ in (idle[1], busy)]
        for _, w in (*idle, busy, newcomer):
            w.transport.abort()
        server.close()
        return answer, oldest, others

    answer, oldest, others = asyncio.run(main())
    assert answer == b"ping\r\n\r\n"
    assert oldest == b""
    assert others == [b"(open)", b"(open)"]
    assert guard.counts == {"evicted": 1}


async def _read_or_reset(reader: asyncio.StreamReader, wait: float = 5) -> bytes:
    try:
        return await asyncio.wait_for(reader.read(100), wait)
    except ConnectionResetError:
        return b""
    except TimeoutError:
        return b"(open)"
