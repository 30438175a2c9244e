"""Authenticated transport between nodes: mutual TLS, framing, peers, gossip.

Bytes in and out; protocol decisions belong to consensus and sync. See ``docs/p2p.md``.

Exceptions (see :mod:`xinlian.p2p.errors`)::

    P2PError
    ├── HandshakeError
    ├── PeerRefusedError
    └── FrameError
        └── FrameTooLargeError
"""

from xinlian.p2p.address import PeerAddress
from xinlian.p2p.backoff import Backoff
from xinlian.p2p.counters import TransportCounters
from xinlian.p2p.errors import (
    FrameError,
    FrameTooLargeError,
    HandshakeError,
    P2PError,
    PeerRefusedError,
)
from xinlian.p2p.frame import Envelope, FrameDecoder, decode_envelope, encode_frame
from xinlian.p2p.gossip import Gossip, SeenCache
from xinlian.p2p.identity import TransportIdentity
from xinlian.p2p.queue import OverflowPolicy
from xinlian.p2p.transport import Handler, Transport, TransportConfig

__all__ = [
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
]
