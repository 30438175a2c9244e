"""Frames: a 4-byte big-endian length, then a canonical msgpack :class:`Envelope`.

:class:`FrameDecoder` is sans-IO: feed it whatever bytes arrived and pull complete frame
bodies out. It checks a length prefix against the maximum as soon as the four bytes are
there, before any of the body is buffered, so a peer cannot make the node allocate or wait
for an oversized frame.
"""

from __future__ import annotations

import msgspec

from xinlian.codec import CodecError, decode, encode
from xinlian.p2p.errors import FrameError, FrameTooLargeError

PREFIX_SIZE = 4
DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024
MAX_CHANNEL = 0xFFFF


class Envelope(msgspec.Struct, frozen=True, array_like=True):
    """What one frame carries: a channel number (which protocol) and opaque bytes."""

    channel: int
    payload: bytes


def encode_frame(
    channel: int, payload: bytes, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
) -> bytes:
    """Return the length-prefixed frame for ``payload`` on ``channel``.

    Raises:
        FrameError: the channel is outside ``0..65535``.
        FrameTooLargeError: the encoded envelope exceeds ``max_frame_size``.
    """
    if not 0 <= channel <= MAX_CHANNEL:
        raise FrameError(f"channel {channel} outside 0..{MAX_CHANNEL}")
    body = encode(Envelope(channel, payload))
    if len(body) > max_frame_size:
        raise FrameTooLargeError(f"frame of {len(body)} bytes exceeds the maximum {max_frame_size}")
    return len(body).to_bytes(PREFIX_SIZE, "big") + body


def decode_envelope(body: bytes) -> Envelope:
    """Decode one frame body strictly (canonical msgpack only).

    Raises:
        FrameError: the body is not the canonical encoding of an envelope, or its channel
            is out of range.
    """
    try:
        envelope = decode(body, Envelope)
    except CodecError as exc:
        raise FrameError(str(exc)) from None
    if not 0 <= envelope.channel <= MAX_CHANNEL:
        raise FrameError(f"channel {envelope.channel} outside 0..{MAX_CHANNEL}")
    return envelope


class FrameDecoder:
    """Splits a byte stream into frame bodies (sans-IO).

    Usage: ``decoder.feed(data)`` then ``while (body := decoder.next_body()) is not None``.
    After :class:`FrameTooLargeError` the stream cannot be resynchronised: close it.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._buffer = bytearray()
        self._pending: int | None = None  # length of the body being collected

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as a frame body."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buffer += data

    def next_body(self) -> bytes | None:
        """Return the next complete frame body, or None if more bytes are needed.

        Raises:
            FrameTooLargeError: the next length prefix exceeds the maximum.
        """
        if self._pending is None:
            if len(self._buffer) < PREFIX_SIZE:
                return None
            length = int.from_bytes(self._buffer[:PREFIX_SIZE], "big")
            if length > self.max_frame_size:
                raise FrameTooLargeError(
                    f"length prefix {length} exceeds the maximum {self.max_frame_size}"
                )
            del self._buffer[:PREFIX_SIZE]
            self._pending = length
        if len(self._buffer) < self._pending:
            return None
        body = bytes(self._buffer[: self._pending])
        del self._buffer[: self._pending]
        self._pending = None
        return body
