"""The p2p exception tree.

::

    P2PError                  anything the transport refuses or cannot do
    ├── HandshakeError        TLS failed, or a certificate is not a usable Ed25519 identity
    ├── PeerRefusedError      authenticated but not allowed: unknown, banned, unexpected key
    └── FrameError            bytes that are not a valid frame
        └── FrameTooLargeError  a length prefix above the configured maximum

Callers catch :class:`P2PError` for "the network said no"; anything else is a bug.
"""

from __future__ import annotations


class P2PError(Exception):
    """Base of every expected p2p failure."""


class HandshakeError(P2PError):
    """The TLS handshake failed or the peer's certificate is not an Ed25519 identity."""


class PeerRefusedError(P2PError):
    """An authenticated peer that this node will not talk to.

    ``reason`` is a short metrics label: ``not_allowed``, ``banned``, ``unexpected_key``
    or ``self``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class FrameError(P2PError):
    """Bytes that do not form a valid frame or envelope."""


class FrameTooLargeError(FrameError):
    """A frame whose length prefix exceeds the maximum; its body is never read."""
