"""The sans-IO parts: backoff, scores, send queue, seen-cache, gossip, exports."""

from __future__ import annotations

import random

import pytest

import xinlian.p2p
from xinlian.p2p import Backoff, Gossip, OverflowPolicy, SeenCache
from xinlian.p2p.queue import SendQueue
from xinlian.p2p.score import PeerScores


def test_exports_are_the_intended_names() -> None:
    assert set(xinlian.p2p.__all__) == {
        "Backoff",
        "Envelope",
        "FrameDecoder",
        "FrameError",
        "FrameTooLargeError",
        "Gossip",
        "Handler",
        "HandshakeError",
        "OverflowPolicy",
        "P2PError",
        "PeerAddress",
        "PeerRefusedError",
        "SeenCache",
        "Transport",
        "TransportConfig",
        "TransportCounters",
        "TransportIdentity",
        "decode_envelope",
        "encode_frame",
    }
    assert issubclass(xinlian.p2p.FrameTooLargeError, xinlian.p2p.FrameError)
    for name in ("HandshakeError", "PeerRefusedError", "FrameError"):
        assert issubclass(getattr(xinlian.p2p, name), xinlian.p2p.P2PError)


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    backoff = Backoff(base=0.1, cap=2.0, rng=random.Random(7))
    for attempt in range(100):
        assert 0.0 <= backoff.delay(attempt) <= min(2.0, 0.1 * 2**attempt)
    late = [backoff.delay(20) for _ in range(200)]
    assert max(late) > 1.0  # reaches towards the cap
    assert len(set(late)) > 100  # jittered


def test_backoff_is_deterministic_for_a_seed() -> None:
    a = Backoff(base=0.1, cap=2.0, rng=random.Random(3))
    b = Backoff(base=0.1, cap=2.0, rng=random.Random(3))
    assert [a.delay(n) for n in range(10)] == [b.delay(n) for n in range(10)]


def test_scores_ban_at_the_threshold_for_a_while() -> None:
    now = [100.0]
    scores = PeerScores(threshold=3, ban_seconds=10.0, clock=lambda: now[0])
    assert not scores.add(b"p", 1)
    assert not scores.add(b"p", 1)
    assert scores.score(b"p") == 2
    assert scores.add(b"p", 1)
    assert scores.is_banned(b"p")
    assert scores.score(b"p") == 0
    assert not scores.is_banned(b"q")
    now[0] += 9.5
    assert scores.ban_remaining(b"p") == pytest.approx(0.5)
    now[0] += 1.0
    assert not scores.is_banned(b"p")


async def test_send_queue_drop_oldest_keeps_the_newest() -> None:
    queue = SendQueue(2, OverflowPolicy.DROP_OLDEST)
    assert queue.put(b"1")
    assert queue.put(b"2")
    assert not queue.put(b"3")
    assert await queue.take_all() == [b"2", b"3"]


async def test_send_queue_disconnect_policy_refuses_when_full() -> None:
    queue = SendQueue(2, OverflowPolicy.DISCONNECT)
    assert queue.put(b"1")
    assert queue.put(b"2")
    assert not queue.put(b"3")
    assert await queue.take_all() == [b"1", b"2"]


def test_seen_cache_is_a_bounded_lru() -> None:
    cache = SeenCache(2)
    assert cache.add(b"a")
    assert cache.add(b"b")
    assert not cache.add(b"a")  # refreshes a
    assert cache.add(b"c")  # evicts b, the least recently seen
    assert b"a" in cache
    assert b"b" not in cache
    assert len(cache) == 2


class _Net:
    """Gossip nodes wired directly: ``send`` delivers into the peer's queue."""

    def __init__(self, links: dict[bytes, set[bytes]]) -> None:
        self.links = links
        self.inbox: list[tuple[bytes, bytes, bytes]] = []  # (to, from, payload)
        self.delivered: dict[bytes, list[bytes]] = {k: [] for k in links}
        self.nodes = {k: self._node(k) for k in links}

    def _node(self, key: bytes) -> Gossip:
        async def deliver(peer: bytes, payload: bytes) -> bool:
            self.delivered[key].append(payload)
            return payload != b"invalid"

        def send(peer: bytes, channel: int, payload: bytes) -> bool:
            self.inbox.append((peer, key, payload))
            return True

        return Gossip(1, send, lambda: self.links[key], deliver, capacity=100)

    async def run(self) -> int:
        sent = 0
        while self.inbox:
            to, sender, payload = self.inbox.pop(0)
            sent += 1
            await self.nodes[to].receive(sender, payload)
        return sent


async def test_gossip_reaches_everyone_once_and_drops_duplicates() -> None:
    keys = [bytes([i]) * 32 for i in range(4)]
    net = _Net({k: {o for o in keys if o != k} for k in keys})  # a full mesh
    assert await net.nodes[keys[0]].publish(b"tx")
    sent = await net.run()
    assert all(net.delivered[k] == [b"tx"] for k in keys)
    # the origin sends 3; each of the 3 others forwards to its 2 non-source peers once
    assert sent == 3 + 3 * 2
    assert sum(g.duplicates for g in net.nodes.values()) == 6
    assert not await net.nodes[keys[0]].publish(b"tx")


async def test_gossip_crosses_a_line_and_does_not_forward_rejected() -> None:
    a, b, c = (bytes([i]) * 32 for i in range(3))
    net = _Net({a: {b}, b: {a, c}, c: {b}})
    await net.nodes[a].publish(b"tx")
    await net.run()
    assert net.delivered[c] == [b"tx"]
    await net.nodes[a].publish(b"invalid")
    await net.run()
    assert net.delivered[a][-1] == b"invalid"
    assert b"invalid" not in net.delivered[b]
