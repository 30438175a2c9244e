"""Transaction gossip: forward each new message once to every other peer.

:class:`Gossip` knows nothing of sockets: it is given ``send`` and ``peers`` callables
(normally ``Transport.send`` and ``Transport.connected_peers``), so it runs in tests and
simulations without a network.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection

Deliver = Callable[[bytes, bytes], Awaitable[bool]]
"""``(peer_key, payload) -> accepted``: hand a new message to the application (the
mempool); only accepted messages are forwarded. ``peer_key`` is empty for local ones."""


class SeenCache:
    """A bounded LRU set of message digests."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a seen-cache holds at least one digest")
        self.capacity = capacity
        self._digests: OrderedDict[bytes, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._digests)

    def __contains__(self, digest: object) -> bool:
        return digest in self._digests

    def add(self, digest: bytes) -> bool:
        """Record ``digest``; return True if it was not already present."""
        if digest in self._digests:
            self._digests.move_to_end(digest)
            return False
        self._digests[digest] = None
        if len(self._digests) > self.capacity:
            self._digests.popitem(last=False)
        return True


def sha256(payload: bytes) -> bytes:
    """The default message digest."""
    return hashlib.sha256(payload).digest()


class Gossip:
    """Flooding with duplicate suppression on one channel.

    Each payload is identified by ``digest(payload)``. The first copy is delivered and, if
    accepted, sent to every connected peer except the one it came from; later copies are
    dropped (counted in ``duplicates``).
    """

    def __init__(
        self,
        channel: int,
        send: Callable[[bytes, int, bytes], bool],
        peers: Callable[[], Collection[bytes]],
        deliver: Deliver,
        *,
        capacity: int = 100_000,
        digest: Callable[[bytes], bytes] = sha256,
    ) -> None:
        self.channel = channel
        self._send = send
        self._peers = peers
        self._deliver = deliver
        self._digest = digest
        self.seen = SeenCache(capacity)
        self.duplicates = 0
        self.forwarded = 0

    async def publish(self, payload: bytes) -> bool:
        """Gossip a locally submitted message; False if it was already seen or rejected."""
        return await self.receive(b"", payload)

    async def receive(self, peer_key: bytes, payload: bytes) -> bool:
        """Handle a copy from ``peer_key``; return True if it was new and forwarded."""
        if not self.seen.add(self._digest(payload)):
            self.duplicates += 1
            return False
        if not await self._deliver(peer_key, payload):
            return False
        for peer in self._peers():
            if peer != peer_key and self._send(peer, self.channel, payload):
                self.forwarded += 1
        return True
