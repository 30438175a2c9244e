"""Real transports on 127.0.0.1: mutual TLS, pinning, framing abuse, reconnection, dedup.

Every wait is bounded; nothing asserts on timing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

import pytest

from xinlian.p2p import (
    Gossip,
    PeerAddress,
    Transport,
    TransportConfig,
    TransportIdentity,
    encode_frame,
)
from xinlian.p2p.errors import HandshakeError
from xinlian.p2p.identity import leaf_certificate
from xinlian.p2p.tls import build_context
from xinlian.p2p.transport import open_tls

T = TypeVar("T")
WAIT = 10.0
FAST = TransportConfig(
    backoff_base=0.02,
    backoff_cap=0.2,
    handshake_timeout=3.0,
    close_timeout=1.0,
    max_frame_size=64 * 1024,
    misbehaviour_threshold=3,
)

Inbox = asyncio.Queue[tuple[bytes, int, bytes]]


def _identity(i: int) -> TransportIdentity:
    return TransportIdentity.from_seed(bytes([i]) * 32)


class Net:
    """Builds transports and stops them all at the end of a test."""

    def __init__(self) -> None:
        self.transports: list[Transport] = []
        self.inboxes: dict[bytes, Inbox] = {}

    async def node(
        self,
        identity: TransportIdentity,
        allowed: Iterable[bytes],
        peers: Iterable[PeerAddress] = (),
        *,
        port: int = 0,
        config: TransportConfig = FAST,
        on_disconnect: Callable[[bytes], None] | None = None,
    ) -> Transport:
        inbox: Inbox = asyncio.Queue()

        async def handler(peer: bytes, channel: int, payload: bytes) -> None:
            await inbox.put((peer, channel, payload))

        transport = Transport(
            identity,
            "127.0.0.1",
            port,
            allowed,
            handler,
            peers=peers,
            config=config,
            on_disconnect=on_disconnect,
        )
        await transport.start()
        self.transports.append(transport)
        self.inboxes[identity.public_key] = inbox
        return transport

    async def stop(self) -> None:
        for transport in self.transports:
            await asyncio.wait_for(transport.stop(), WAIT)


@pytest.fixture
async def net() -> AsyncIterator[Net]:
    network = Net()
    yield network
    await network.stop()


def addr(transport: Transport) -> PeerAddress:
    return PeerAddress("127.0.0.1", transport.listen_port, transport.public_key)


async def until(predicate: Callable[[], bool]) -> None:
    """Wait (bounded) for a condition that a counter or peer set reaches."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), WAIT)


async def bounded(awaitable: Awaitable[T]) -> T:
    return await asyncio.wait_for(awaitable, WAIT)


KEYS = [_identity(i) for i in range(1, 6)]
A, B, C, X, Y = KEYS
MEMBERS = [A.public_key, B.public_key, C.public_key]


async def test_two_transports_exchange_messages_over_tls13(net: Net) -> None:
    b = await net.node(B, MEMBERS)
    a = await net.node(A, MEMBERS, [addr(b)])
    await bounded(a.wait_connected([B.public_key]))
    await bounded(b.wait_connected([A.public_key]))
    assert a.send(B.public_key, 3, b"ping")
    assert await bounded(net.inboxes[B.public_key].get()) == (A.public_key, 3, b"ping")
    assert b.send(A.public_key, 4, b"pong")
    assert await bounded(net.inboxes[A.public_key].get()) == (B.public_key, 4, b"pong")
    ssl_object = a._connections[B.public_key]._writer.get_extra_info("ssl_object")
    assert ssl_object.version() == "TLSv1.3"
    assert a.counters.frames_out == 1
    assert b.counters.frames_in == 1


async def test_three_transports_broadcast(net: Net) -> None:
    c = await net.node(C, MEMBERS)
    b = await net.node(B, MEMBERS, [addr(c)])
    a = await net.node(A, MEMBERS, [addr(b), addr(c)])
    await bounded(a.wait_connected([B.public_key, C.public_key]))
    await bounded(c.wait_connected([A.public_key, B.public_key]))
    assert a.broadcast(1, b"hello") == 2
    for key in (B.public_key, C.public_key):
        assert await bounded(net.inboxes[key].get()) == (A.public_key, 1, b"hello")
    assert c.broadcast(2, b"back") == 2
    for key in (A.public_key, B.public_key):
        assert await bounded(net.inboxes[key].get()) == (C.public_key, 2, b"back")


@pytest.fixture
def slow_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy server loop: every accept callback starts 0.3 s late, so the dialer's first
    bytes are already waiting when it runs."""
    accept = Transport._accept

    async def slow(
        self: Transport, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await asyncio.sleep(0.3)
        await accept(self, reader, writer)

    monkeypatch.setattr(Transport, "_accept", slow)


@pytest.mark.usefixtures("slow_accept")
async def test_a_client_hello_waiting_before_the_server_turns_to_tls_is_not_lost(
    net: Net,
) -> None:
    # A busy server loop: the dialer's ClientHello has arrived before the accept callback
    # starts TLS. It must still reach the handshake (CPython gh-142352 lost it, and the two
    # nodes never connected).
    b = await net.node(B, MEMBERS)
    a = await net.node(A, MEMBERS, [addr(b)])
    await bounded(a.wait_connected([B.public_key]))
    await bounded(b.wait_connected([A.public_key]))
    assert b.counters.refused["handshake"] == 0
    assert a.send(B.public_key, 1, b"through")
    assert await bounded(net.inboxes[B.public_key].get()) == (A.public_key, 1, b"through")


@pytest.mark.usefixtures("slow_accept")
def test_a_delayed_accept_still_connects_on_uvloop() -> None:
    # Nodes run on uvloop, which starts reading an accepted socket right after
    # connection_made whatever the protocol asks: only the greeting keeps the ClientHello
    # from arriving before the server turns to TLS.
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> None:
        net = Net()
        try:
            b = await net.node(B, MEMBERS)
            a = await net.node(A, MEMBERS, [addr(b)])
            await bounded(a.wait_connected([B.public_key]))
            await bounded(b.wait_connected([A.public_key]))
            assert a.counters.refused["handshake"] == b.counters.refused["handshake"] == 0
        finally:
            await net.stop()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(scenario())


async def test_dialing_something_that_is_not_a_node_fails_clearly(net: Net) -> None:
    async def web_server(_r: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(web_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    context = build_context(A, MEMBERS, server_side=False)
    try:
        with pytest.raises(HandshakeError, match="not a node of this version"):
            await open_tls("127.0.0.1", port, context, WAIT)
        a = await net.node(A, MEMBERS, [PeerAddress("127.0.0.1", port, B.public_key)])
        await asyncio.sleep(0.3)  # a few dials: each fails, none connects, none crashes
        assert a.connected_peers() == frozenset()
    finally:
        server.close()


async def test_connections_ask_the_kernel_to_drop_a_silent_peer(net: Net) -> None:
    b = await net.node(B, MEMBERS)
    a = await net.node(A, MEMBERS, [addr(b)])
    await bounded(a.wait_connected([B.public_key]))
    await bounded(b.wait_connected([A.public_key]))
    for transport, peer in ((a, B), (b, A)):
        sock = transport._connections[peer.public_key]._writer.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 10
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 30_000


async def test_unknown_key_is_refused_when_it_dials(net: Net) -> None:
    b = await net.node(B, MEMBERS)
    await net.node(X, [*MEMBERS, X.public_key], [addr(b)])
    await until(lambda: b.counters.refused["handshake"] >= 1)
    assert X.public_key not in b.connected_peers()


async def test_unknown_key_is_refused_when_it_is_dialed(net: Net) -> None:
    x = await net.node(X, [*MEMBERS, X.public_key])
    # A is told B listens there: X answers, and A's TLS check rejects X's certificate.
    a = await net.node(A, MEMBERS, [PeerAddress("127.0.0.1", x.listen_port, B.public_key)])
    await until(lambda: a.counters.refused["handshake"] >= 1)
    assert a.connected_peers() == frozenset()


async def test_allowed_key_at_the_wrong_address_is_refused(net: Net) -> None:
    c = await net.node(C, MEMBERS)
    a = await net.node(A, MEMBERS, [PeerAddress("127.0.0.1", c.listen_port, B.public_key)])
    await until(lambda: a.counters.refused["unexpected_key"] >= 1)
    assert B.public_key not in a.connected_peers()


async def test_a_certificate_claiming_another_key_fails_the_handshake(net: Net) -> None:
    b = await net.node(B, [*MEMBERS, X.public_key])
    # X holds an allowed key but presents a certificate under A's anchor, signed by X.
    forged = TransportIdentity(X.private_key, leaf_certificate(X.private_key, A.public_key))
    context = build_context(forged, MEMBERS, server_side=False)

    async def dial() -> bytes:
        reader, writer = await open_tls("127.0.0.1", b.listen_port, context, WAIT)
        try:
            # TLS 1.3: the server's verdict on the client certificate follows the handshake
            return await reader.read(1)
        except (ssl.SSLError, ConnectionError):
            return b""
        finally:
            writer.close()

    assert await bounded(dial()) == b""
    await until(lambda: b.counters.refused["handshake"] >= 1)
    assert b.connected_peers() == frozenset()


async def _raw_peer(
    net: Net, target: Transport, identity: TransportIdentity
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """An authenticated connection that writes whatever the test wants."""
    context = build_context(identity, MEMBERS, server_side=False)
    reader, writer = await bounded(open_tls("127.0.0.1", target.listen_port, context, WAIT))
    await bounded(target.wait_connected([identity.public_key]))
    return reader, writer


async def test_oversized_length_prefix_disconnects_without_reading_the_body(net: Net) -> None:
    b = await net.node(B, MEMBERS)
    reader, writer = await _raw_peer(net, b, A)
    writer.write((10 * 1024 * 1024).to_bytes(4, "big") + b"\x00" * 16)
    await writer.drain()
    assert await bounded(reader.read()) == b""  # the node hung up
    writer.close()
    assert b.counters.drops["oversized"] == 1
    assert b.counters.misbehaviour[A.public_key.hex()] == FAST.oversized_penalty
    assert A.public_key not in b.connected_peers()
    assert b.is_banned(A.public_key)  # 5 >= threshold 3


async def test_garbage_frames_raise_the_score_then_disconnect_and_ban(net: Net) -> None:
    b = await net.node(B, MEMBERS)
    reader, writer = await _raw_peer(net, b, A)
    writer.write(encode_frame(1, b"fine"))
    garbage = [b"\x05\x00\x00\x00", b"\xc1\xc1", encode_frame(999, b"x")[4:], b"\x91\x01"]
    for body in garbage:
        writer.write(len(body).to_bytes(4, "big") + body)
    await writer.drain()
    assert await bounded(net.inboxes[B.public_key].get()) == (A.public_key, 1, b"fine")
    assert await bounded(reader.read()) == b""
    writer.close()
    assert b.counters.drops["malformed"] + b.counters.drops["unknown_channel"] == 3
    assert b.is_banned(A.public_key)
    assert b.counters.bans == 1
    # a banned peer is refused after the handshake
    context = build_context(A, MEMBERS, server_side=False)
    reader, writer = await bounded(open_tls("127.0.0.1", b.listen_port, context, WAIT))
    assert await bounded(reader.read()) == b""
    writer.close()
    assert b.counters.refused["banned"] == 1


async def test_handler_errors_are_counted_not_fatal(net: Net) -> None:
    async def broken(peer: bytes, channel: int, payload: bytes) -> None:
        raise RuntimeError("bug in the handler")

    b = Transport(B, "127.0.0.1", 0, MEMBERS, broken, config=FAST)
    await b.start()
    net.transports.append(b)
    a = await net.node(A, MEMBERS, [addr(b)])
    await bounded(a.wait_connected([B.public_key]))
    a.send(B.public_key, 1, b"one")
    a.send(B.public_key, 1, b"two")
    await until(lambda: b.counters.drops["handler_error"] == 2)
    assert A.public_key in b.connected_peers()


async def test_reconnects_after_the_listener_restarts(net: Net) -> None:
    b = await net.node(B, MEMBERS)
    port = b.listen_port
    a = await net.node(A, MEMBERS, [addr(b)])
    await bounded(a.wait_connected([B.public_key]))
    await bounded(b.stop())
    await bounded(a.wait_connected([B.public_key], connected=False))
    b2 = await net.node(B, MEMBERS, port=port)
    await bounded(a.wait_connected([B.public_key]))
    assert a.send(B.public_key, 1, b"again")
    assert await bounded(net.inboxes[B.public_key].get()) == (A.public_key, 1, b"again")
    assert b2.counters.connections_opened == 1


async def test_a_peer_that_goes_away_is_reported_once_to_the_disconnect_handler(
    net: Net,
) -> None:
    left: list[bytes] = []
    b = await net.node(B, MEMBERS)
    a = await net.node(A, MEMBERS, [addr(b)], on_disconnect=left.append)
    await bounded(a.wait_connected([B.public_key]))
    assert left == []
    await bounded(b.stop())
    await bounded(a.wait_connected([B.public_key], connected=False))
    await until(lambda: left == [B.public_key])


async def test_a_failing_disconnect_handler_is_logged_not_fatal(net: Net) -> None:
    def explode(_key: bytes) -> None:
        raise RuntimeError("handler bug")

    b = await net.node(B, MEMBERS)
    port = b.listen_port
    a = await net.node(A, MEMBERS, [addr(b)], on_disconnect=explode)
    await bounded(a.wait_connected([B.public_key]))
    await bounded(b.stop())
    await bounded(a.wait_connected([B.public_key], connected=False))
    await net.node(B, MEMBERS, port=port)
    await bounded(a.wait_connected([B.public_key]))  # the dialer carried on


async def test_removing_a_key_closes_its_connection(net: Net) -> None:
    b = await net.node(B, MEMBERS)
    a = await net.node(A, MEMBERS, [addr(b)])
    await bounded(b.wait_connected([A.public_key]))
    b.set_allowed_keys([B.public_key, C.public_key])
    await bounded(b.wait_connected([A.public_key], connected=False))
    await bounded(a.wait_connected([B.public_key], connected=False))
    assert b.counters.refused["not_allowed"] >= 1
    b.set_allowed_keys(MEMBERS)  # re-admitted: A's dialer gets back in
    await bounded(b.wait_connected([A.public_key]))


async def test_simultaneous_dials_keep_one_connection_dialed_by_the_lower_key(
    net: Net,
) -> None:
    a = await net.node(A, MEMBERS)
    b = await net.node(B, MEMBERS)
    a.add_peer(addr(b))
    b.add_peer(addr(a))
    await bounded(a.wait_connected([B.public_key]))
    await bounded(b.wait_connected([A.public_key]))
    lower = min(A.public_key, B.public_key)

    def settled() -> bool:
        ca = a._connections.get(B.public_key)
        cb = b._connections.get(A.public_key)
        return (
            ca is not None
            and cb is not None
            and ca.outbound == (A.public_key == lower)
            and cb.outbound == (B.public_key == lower)
        )

    await until(settled)
    assert a.send(B.public_key, 1, b"once")
    assert await bounded(net.inboxes[B.public_key].get()) == (A.public_key, 1, b"once")


async def test_overflowing_send_queue_disconnects_the_slow_peer(net: Net) -> None:
    config = dataclasses.replace(FAST, send_queue_frames=2)
    b = await net.node(B, MEMBERS)
    a = await net.node(A, MEMBERS, [addr(b)], config=config)
    await bounded(a.wait_connected([B.public_key]))
    results = [a.send(B.public_key, 1, b"x") for _ in range(3)]  # no await: writer can't run
    assert results == [True, True, False]
    assert a.counters.drops["queue_overflow"] == 1
    await bounded(b.wait_connected([A.public_key], connected=False))


async def test_gossip_over_real_transports_forwards_each_tx_once(net: Net) -> None:
    c = await net.node(C, MEMBERS)
    b = await net.node(B, MEMBERS, [addr(c)])
    a = await net.node(A, MEMBERS, [addr(b)])  # a line: A - B - C
    await bounded(b.wait_connected([A.public_key, C.public_key]))
    seen: dict[bytes, list[bytes]] = {k: [] for k in MEMBERS}
    gossips: dict[bytes, Gossip] = {}
    for transport in (a, b, c):
        key = transport.public_key

        async def deliver(peer: bytes, payload: bytes, key: bytes = key) -> bool:
            seen[key].append(payload)
            return True

        gossips[key] = Gossip(7, transport.send, transport.connected_peers, deliver)

    async def pump(key: bytes) -> None:
        while True:
            peer, _, payload = await net.inboxes[key].get()
            await gossips[key].receive(peer, payload)

    pumps = [asyncio.create_task(pump(k)) for k in MEMBERS]
    try:
        await gossips[A.public_key].publish(b"tx-1")
        await gossips[C.public_key].publish(b"tx-1")  # C submits the same tx locally
        await until(lambda: all(seen[k] == [b"tx-1"] for k in MEMBERS))
        await until(lambda: sum(g.duplicates for g in gossips.values()) >= 2)
        assert gossips[B.public_key].forwarded == 1
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
