"""The transport: listen, dial, authenticate, frame, dispatch; bytes in and out.

Contract:

- Every connection is TLS 1.3 with both certificates checked against the allowed keys;
  a peer not in the set is refused on both sides, counted and logged.
- A peer has at most one connection. When both nodes dial at once, the connection dialed
  by the node with the lower public key survives, on both sides.
- Nothing a peer sends raises out of the transport: oversized frames close the connection
  before the body is read; malformed or unknown-channel frames are dropped; each counts
  against the peer, and a peer reaching the threshold is disconnected and banned.
- Frames from one peer reach the handler in order, one at a time; a slow handler slows
  reading from that peer only. A handler exception is logged and counted, never fatal.
- ``on_disconnect`` hears of every peer whose connection ended without a replacement,
  so the layers above can forget what that peer told them (its height, for example).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field

from xinlian.p2p.address import PeerAddress
from xinlian.p2p.backoff import Backoff
from xinlian.p2p.connection import Connection
from xinlian.p2p.counters import TransportCounters
from xinlian.p2p.errors import (
    FrameError,
    FrameTooLargeError,
    HandshakeError,
    P2PError,
    PeerRefusedError,
)
from xinlian.p2p.frame import DEFAULT_MAX_FRAME_SIZE, FrameDecoder, decode_envelope, encode_frame
from xinlian.p2p.identity import TransportIdentity
from xinlian.p2p.queue import OverflowPolicy, SendQueue
from xinlian.p2p.score import PeerScores
from xinlian.p2p.tls import build_context, peer_key

log = logging.getLogger("xinlian.p2p")

Handler = Callable[[bytes, int, bytes], Awaitable[None]]
"""``async (peer_key, channel, payload) -> None``: called for each valid frame."""

DisconnectHandler = Callable[[bytes], None]
"""``(peer_key) -> None``: called when a peer's connection ends (and no other replaced it)."""

_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """Tunables; the defaults suit a consortium network on a LAN or WAN."""

    channels: frozenset[int] = field(default_factory=lambda: frozenset(range(16)))
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    send_queue_frames: int = 4096
    overflow: OverflowPolicy = OverflowPolicy.DISCONNECT
    handshake_timeout: float = 5.0
    close_timeout: float = 2.0
    misbehaviour_threshold: int = 10
    ban_seconds: float = 300.0
    #: Penalty weights: an oversized frame also closes the connection.
    oversized_penalty: int = 5
    malformed_penalty: int = 1
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    #: A connection that lived this long resets the dialer's backoff.
    stable_after: float = 10.0
    #: A peer that stops acknowledging (a cut link, a host switched off, no FIN or RST
    #: ever arrives) is dropped after about this many seconds: TCP keepalive probes when
    #: idle, TCP_USER_TIMEOUT when data is unacknowledged. Then the dialer takes over.
    dead_peer_timeout: float = 30.0


GREETING = b"XLP1"
"""What an accepting node sends before TLS: the dialer starts its handshake only after
reading it. The accepting side switches the socket to TLS in the same step as it writes
the greeting, so the ClientHello can never reach the plain stream first. (Read before the
switch, it would be lost: ``start_tls`` does not carry buffered bytes over, in asyncio
before 3.13 (CPython gh-142352) or in uvloop (uvloop #707), and the handshake would hang
until it timed out, every retry, on a busy node.) ``1`` is the wire version."""


async def open_tls(
    host: str, port: int, context: ssl.SSLContext, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Dial a node's p2p port: TCP, its greeting, then the TLS handshake (mutual).

    Raises:
        HandshakeError: the other side is not a node of this protocol version.
        ssl.SSLError, OSError, TimeoutError: the connection or the handshake failed.
    """
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            try:
                greeting = await reader.readexactly(len(GREETING))
            except asyncio.IncompleteReadError:
                raise HandshakeError(f"{host}:{port} closed before greeting") from None
            if greeting != GREETING:
                raise HandshakeError(f"{host}:{port} is not a node of this version ({greeting!r})")
            await writer.start_tls(context, ssl_handshake_timeout=timeout)
        except BaseException:
            writer.transport.abort()
            raise
    return reader, writer


def _detect_dead_peers(sock: socket.socket | None, timeout: float) -> None:
    """Ask the kernel to drop the connection once the peer stays silent for ``timeout``
    seconds (best effort: options a platform lacks are skipped)."""
    if sock is None:
        return
    idle = max(1, int(timeout / 3))
    options = [
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPIDLE", None), idle),
        (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPINTVL", None), max(1, idle // 2)),
        (socket.IPPROTO_TCP, getattr(socket, "TCP_KEEPCNT", None), 4),
        (socket.IPPROTO_TCP, getattr(socket, "TCP_USER_TIMEOUT", None), int(timeout * 1000)),
    ]
    for level, option, value in options:
        if option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(level, option, value)


class Transport:
    """Authenticated, framed messaging with a pinned set of peers.

    ``allowed_keys`` are raw 32-byte Ed25519 public keys; ``peers`` are the addresses this
    node dials (it also accepts any allowed peer that dials it). ``clock`` (monotonic
    seconds) and ``rng`` are injectable for tests.
    """

    def __init__(
        self,
        identity: TransportIdentity,
        listen_host: str,
        listen_port: int,
        allowed_keys: Iterable[bytes],
        handler: Handler,
        *,
        peers: Iterable[PeerAddress] = (),
        config: TransportConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        on_disconnect: DisconnectHandler | None = None,
    ) -> None:
        self.identity = identity
        self.listen_host = listen_host
        self.config = config or TransportConfig()
        self.counters = TransportCounters()
        self._listen_port = listen_port
        self._handler = handler
        self._on_disconnect = on_disconnect
        self._clock = clock
        self._backoff = Backoff(
            self.config.backoff_base, self.config.backoff_cap, rng or random.Random()
        )
        self._scores = PeerScores(
            self.config.misbehaviour_threshold, self.config.ban_seconds, clock
        )
        self._allowed = frozenset(allowed_keys)
        self._server_context = build_context(identity, self._allowed, server_side=True)
        self._client_context = build_context(identity, self._allowed, server_side=False)
        self._addresses: dict[bytes, PeerAddress] = {}
        self._dialers: dict[bytes, asyncio.Task[None]] = {}
        self._connections: dict[bytes, Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Event()
        self._running = False
        for address in peers:
            self._addresses[address.public_key] = address

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def public_key(self) -> bytes:
        """This node's transport key."""
        return self.identity.public_key

    @property
    def listen_port(self) -> int:
        """The bound port (the real one once started with port 0)."""
        return self._listen_port

    async def start(self) -> None:
        """Listen and start dialing the configured peers."""
        if self._running:
            return
        self._server = await asyncio.start_server(self._accept, self.listen_host, self._listen_port)
        self._listen_port = self._server.sockets[0].getsockname()[1]
        self._running = True
        for key in self._addresses:
            self._start_dialer(key)
        log.info(
            "p2p listening on %s:%d as %s",
            self.listen_host,
            self._listen_port,
            self.public_key.hex()[:12],
        )

    async def stop(self) -> None:
        """Stop listening and dialing, flush send queues briefly, close every connection."""
        if not self._running:
            return
        self._running = False
        if self._server is not None:
            self._server.close()
        for task in self._dialers.values():
            task.cancel()
        connections = list(self._connections.values())
        await asyncio.gather(*(c.flush(self.config.close_timeout) for c in connections))
        for connection in connections:
            connection.close("stopping")
        for task in list(self._tasks) + list(self._dialers.values()):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._dialers.values(), return_exceptions=True)
        await asyncio.gather(*(c.wait_closed(self.config.close_timeout) for c in connections))
        self._dialers.clear()
        self._connections.clear()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.close_timeout):
                    await self._server.wait_closed()
            self._server = None
        self._notify()

    # -- peers --------------------------------------------------------------------------

    def connected_peers(self) -> frozenset[bytes]:
        """Keys of the peers with a live connection."""
        return frozenset(k for k, c in self._connections.items() if not c.closed)

    def allowed_keys(self) -> frozenset[bytes]:
        """The keys currently allowed to connect."""
        return self._allowed

    def set_allowed_keys(self, keys: Iterable[bytes]) -> None:
        """Replace the allowed set (governance changed the members).

        New handshakes use the new set at once; live connections to removed keys close.
        """
        self._allowed = frozenset(keys)
        self._server_context = build_context(self.identity, self._allowed, server_side=True)
        self._client_context = build_context(self.identity, self._allowed, server_side=False)
        for key, connection in list(self._connections.items()):
            if key not in self._allowed:
                self.counters.refused["not_allowed"] += 1
                log.warning("peer %s is no longer allowed; disconnecting", key.hex()[:12])
                connection.close("no longer allowed")
        self._notify()

    def add_peer(self, address: PeerAddress) -> None:
        """Dial ``address`` (replacing any earlier address for the same key)."""
        old = self._dialers.pop(address.public_key, None)
        if old is not None:
            old.cancel()
        self._addresses[address.public_key] = address
        if self._running:
            self._start_dialer(address.public_key)

    def remove_peer(self, key: bytes) -> None:
        """Stop dialing ``key`` (a live connection stays until it closes or is refused)."""
        self._addresses.pop(key, None)
        task = self._dialers.pop(key, None)
        if task is not None:
            task.cancel()

    def disconnect(self, key: bytes, reason: str = "requested") -> None:
        """Close the connection to ``key``, if any."""
        connection = self._connections.get(key)
        if connection is not None:
            connection.close(reason)

    def report_misbehaviour(self, key: bytes, reason: str, weight: int = 1) -> None:
        """Count ``weight`` against ``key`` (for example a bad signature found upstream);
        disconnect and ban it at the threshold."""
        self.counters.misbehaviour[key.hex()] += weight
        log.info("peer %s misbehaved (%s, +%d)", key.hex()[:12], reason, weight)
        if self._scores.add(key, weight):
            self.counters.bans += 1
            log.warning("banning peer %s for %.0f s", key.hex()[:12], self.config.ban_seconds)
            self.disconnect(key, f"banned after {reason}")

    def is_banned(self, key: bytes) -> bool:
        """Whether ``key`` is currently banned."""
        return self._scores.is_banned(key)

    async def wait_connected(self, keys: Collection[bytes], *, connected: bool = True) -> None:
        """Wait until every key in ``keys`` is connected (or, with ``connected=False``,
        none is). Unbounded: wrap it in a timeout."""
        while any((k in self.connected_peers()) != connected for k in keys):
            await self._changed.wait()

    # -- sending ------------------------------------------------------------------------

    def send(self, key: bytes, channel: int, payload: bytes) -> bool:
        """Queue ``payload`` for ``key``; False if not connected or the frame was dropped.

        Raises:
            FrameTooLargeError: the frame would exceed the maximum (a local bug, not the peer's).
        """
        frame = encode_frame(channel, payload, self.config.max_frame_size)
        return self._enqueue(key, frame)

    def broadcast(self, channel: int, payload: bytes) -> int:
        """Queue ``payload`` for every connected peer; return how many took it."""
        frame = encode_frame(channel, payload, self.config.max_frame_size)
        return sum(self._enqueue(key, frame) for key in self.connected_peers())

    def _enqueue(self, key: bytes, frame: bytes) -> bool:
        connection = self._connections.get(key)
        if connection is None or connection.closed:
            self.counters.drops["not_connected"] += 1
            return False
        if connection.queue.put(frame):
            return True
        self.counters.drops["queue_overflow"] += 1
        if self.config.overflow is OverflowPolicy.DISCONNECT:
            log.warning("send queue to %s overflowed; disconnecting", key.hex()[:12])
            connection.close("send queue overflow")
        return False

    def _written(self, frames: int, size: int) -> None:
        self.counters.frames_out += frames
        self.counters.bytes_out += size

    # -- connecting ---------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _start_dialer(self, key: bytes) -> None:
        self._dialers[key] = asyncio.create_task(
            self._dial_loop(key), name=f"p2p-dial {key.hex()[:12]}"
        )

    async def _dial_loop(self, key: bytes) -> None:
        """Keep one connection to ``key`` while it is allowed, backing off on failures."""
        failures = 0
        while self._running:
            if key in self.connected_peers():
                await self._changed.wait()
                continue
            if key not in self._allowed:
                await self._changed.wait()
                continue
            banned_for = self._scores.ban_remaining(key)
            if banned_for > 0:
                await asyncio.sleep(min(banned_for, self.config.backoff_cap))
                continue
            address = self._addresses[key]
            started = self._clock()
            try:
                connection = await self._dial(address)
            except (OSError, TimeoutError, P2PError) as exc:
                log.debug("dial %s failed: %s", address, exc)
            except Exception:  # a bug must not end reconnection to this peer
                log.exception("dialing %s failed unexpectedly", address)
            else:
                await connection.wait_closed(self.config.close_timeout)
                if self._clock() - started >= self.config.stable_after:
                    failures = 0
            await asyncio.sleep(self._backoff.delay(failures))
            failures += 1

    async def _dial(self, address: PeerAddress) -> Connection:
        """Connect, handshake and serve ``address``; return the connection once it runs."""
        try:
            reader, writer = await open_tls(
                address.host, address.port, self._client_context, self.config.handshake_timeout
            )
        except ssl.SSLError as exc:
            self.counters.refused["handshake"] += 1
            log.warning("TLS handshake with %s failed: %s", address, exc)
            raise HandshakeError(str(exc)) from None
        return self._admit(reader, writer, outbound=True, expected=address.public_key)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve an inbound TCP connection: TLS handshake, then admission."""
        remote = writer.get_extra_info("peername")
        try:
            # No await between the greeting and the switch to TLS: see GREETING.
            writer.write(GREETING)
            await writer.start_tls(
                self._server_context, ssl_handshake_timeout=self.config.handshake_timeout
            )
        except (OSError, TimeoutError, EOFError) as exc:
            self.counters.refused["handshake"] += 1
            log.warning("TLS handshake from %s failed: %s", remote, str(exc) or type(exc).__name__)
            writer.transport.abort()
            return
        except asyncio.CancelledError:  # stopping mid-handshake: nothing to report
            writer.transport.abort()
            return
        with contextlib.suppress(P2PError):
            self._admit(reader, writer, outbound=False, expected=None)

    def _admit(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        outbound: bool,
        expected: bytes | None,
    ) -> Connection:
        """Check the authenticated key, deduplicate, and start serving the connection.

        Raises:
            HandshakeError, PeerRefusedError: the connection was refused (and closed).
        """
        try:
            key = peer_key(writer.get_extra_info("ssl_object"))
            self._check_peer(key, expected)
        except PeerRefusedError as exc:
            self.counters.refused[exc.reason] += 1
            log.warning("refusing peer: %s", exc)
            writer.transport.abort()
            raise
        except HandshakeError as exc:
            self.counters.refused["handshake"] += 1
            log.warning("refusing peer: %s", exc)
            writer.transport.abort()
            raise
        _detect_dead_peers(writer.get_extra_info("socket"), self.config.dead_peer_timeout)
        queue = SendQueue(self.config.send_queue_frames, self.config.overflow)
        connection = Connection(
            key,
            outbound=outbound,
            reader=reader,
            writer=writer,
            queue=queue,
            on_written=self._written,
        )
        if not self._keep(connection):
            self.counters.refused["duplicate"] += 1
            writer.transport.abort()
            raise PeerRefusedError("duplicate", f"already connected to {key.hex()[:12]}")
        self._connections[key] = connection
        self.counters.connections_opened += 1
        connection.start()
        self._spawn(self._serve(connection), f"p2p-read {connection!r}")
        log.info("connected to %s (%s)", key.hex()[:12], "outbound" if outbound else "inbound")
        self._notify()
        return connection

    def _check_peer(self, key: bytes, expected: bytes | None) -> None:
        short = key.hex()[:12]
        if key == self.public_key:
            raise PeerRefusedError("self", "connected to itself")
        if expected is not None and key != expected:
            raise PeerRefusedError("unexpected_key", f"expected {expected.hex()[:12]}, got {short}")
        if key not in self._allowed:
            raise PeerRefusedError("not_allowed", f"key {short} is not an allowed peer")
        if self._scores.is_banned(key):
            raise PeerRefusedError("banned", f"peer {short} is banned")

    def _keep(self, new: Connection) -> bool:
        """Deduplicate: return False if ``new`` loses to the existing connection."""
        existing = self._connections.get(new.peer_key)
        if existing is None or existing.closed:
            return True
        if existing.outbound != new.outbound:
            # The connection dialed by the lower key wins, on both sides.
            lower_dials_out = self.public_key < new.peer_key
            if existing.outbound == lower_dials_out:
                return False
        existing.close("replaced by a newer connection")
        return True

    # -- receiving ----------------------------------------------------------------------

    async def _serve(self, connection: Connection) -> None:
        """Read frames from ``connection`` until it closes; never raises."""
        key = connection.peer_key
        decoder = FrameDecoder(self.config.max_frame_size)
        try:
            while not connection.closed:
                data = await connection.reader.read(_READ_CHUNK)
                if not data:
                    connection.close("closed by peer")
                    break
                self.counters.bytes_in += len(data)
                decoder.feed(data)
                await self._dispatch(connection, decoder)
        except (OSError, ConnectionError) as exc:
            connection.close(f"read failed: {exc}")
        except FrameTooLargeError as exc:
            self.counters.drops["oversized"] += 1
            log.warning("peer %s sent an oversized frame: %s", key.hex()[:12], exc)
            connection.close("oversized frame")
            self.report_misbehaviour(key, "oversized frame", self.config.oversized_penalty)
        finally:
            connection.close("reader finished")
            await connection.wait_closed(self.config.close_timeout)
            left = self._connections.get(key) is connection
            if left:
                del self._connections[key]
            self.counters.connections_closed += 1
            log.info("disconnected from %s: %s", key.hex()[:12], connection.close_reason)
            self._notify()
            if left and self._on_disconnect is not None:
                try:
                    self._on_disconnect(key)
                except Exception:
                    log.exception("disconnect handler failed for %s", key.hex()[:12])

    async def _dispatch(self, connection: Connection, decoder: FrameDecoder) -> None:
        """Hand every complete frame in ``decoder`` to the handler."""
        key = connection.peer_key
        while not connection.closed and (body := decoder.next_body()) is not None:
            self.counters.frames_in += 1
            try:
                envelope = decode_envelope(body)
            except FrameError as exc:
                self.counters.drops["malformed"] += 1
                self.report_misbehaviour(
                    key, f"malformed frame: {exc}", self.config.malformed_penalty
                )
                continue
            if envelope.channel not in self.config.channels:
                self.counters.drops["unknown_channel"] += 1
                self.report_misbehaviour(key, f"unknown channel {envelope.channel}")
                continue
            try:
                await self._handler(key, envelope.channel, envelope.payload)
            except Exception:
                self.counters.drops["handler_error"] += 1
                log.exception(
                    "handler failed on channel %d from %s", envelope.channel, key.hex()[:12]
                )
