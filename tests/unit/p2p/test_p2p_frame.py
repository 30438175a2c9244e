"""Frames and envelopes: round trips, limits, and fuzzing of the decoder."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.codec import encode
from xinlian.p2p import (
    Envelope,
    FrameDecoder,
    FrameError,
    FrameTooLargeError,
    decode_envelope,
    encode_frame,
)

MAX = 1024


def _bodies(decoder: FrameDecoder) -> list[bytes]:
    out = []
    while (body := decoder.next_body()) is not None:
        out.append(body)
    return out


def test_frame_round_trip_in_one_byte_pieces() -> None:
    frames = [encode_frame(1, b"hello"), encode_frame(7, b""), encode_frame(65535, b"x" * 300)]
    decoder = FrameDecoder(MAX)
    got: list[bytes] = []
    for byte in b"".join(frames):
        decoder.feed(bytes([byte]))
        got.extend(_bodies(decoder))
    assert [decode_envelope(b) for b in got] == [
        Envelope(1, b"hello"),
        Envelope(7, b""),
        Envelope(65535, b"x" * 300),
    ]
    assert decoder.buffered == 0


def test_oversized_prefix_is_refused_before_the_body() -> None:
    decoder = FrameDecoder(MAX)
    decoder.feed(encode_frame(1, b"ok") + (MAX + 1).to_bytes(4, "big"))
    assert decode_envelope(_bodies_until_error(decoder)[0]) == Envelope(1, b"ok")
    assert decoder.buffered == 4  # only the prefix: no body was waited for


def _bodies_until_error(decoder: FrameDecoder) -> list[bytes]:
    out = []
    with pytest.raises(FrameTooLargeError):
        while (body := decoder.next_body()) is not None:
            out.append(body)
    return out


def test_encode_refuses_oversized_and_bad_channels() -> None:
    with pytest.raises(FrameTooLargeError):
        encode_frame(1, b"x" * MAX, MAX)
    with pytest.raises(FrameError):
        encode_frame(70000, b"")
    with pytest.raises(FrameError):
        encode_frame(-1, b"")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xc1",
        encode([1, b"x", 3]),
        encode([1, "text"]),
        encode([70000, b"x"]),
        encode([-1, b"x"]),
        encode([1, b"x"]) + b"\x00",
        b"\x92\xcd\x00\x01\xc4\x01x",  # channel 1 in a non-minimal uint16
    ],
)
def test_malformed_envelopes_raise_frame_error(body: bytes) -> None:
    with pytest.raises(FrameError):
        decode_envelope(body)


def _drain(decoder: FrameDecoder) -> None:
    """What the transport does with a buffer: every failure must be a FrameError."""
    while True:
        body = decoder.next_body()
        if body is None:
            return
        with contextlib.suppress(FrameError):
            decode_envelope(body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.integers(min_value=1, max_value=64))
def test_fuzz_random_bytes_only_raise_frame_errors(data: bytes, chunk: int) -> None:
    decoder = FrameDecoder(MAX)
    try:
        for i in range(0, len(data), chunk):
            decoder.feed(data[i : i + chunk])
            _drain(decoder)
    except FrameTooLargeError:
        assert decoder.buffered >= 4


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 65535), st.binary(max_size=200)), max_size=8),
    st.integers(min_value=0, max_value=50),
)
def test_fuzz_truncated_streams_yield_a_prefix_of_the_frames(
    messages: list[tuple[int, bytes]], cut: int
) -> None:
    stream = b"".join(encode_frame(c, p) for c, p in messages)
    truncated = stream[: max(0, len(stream) - cut)]
    decoder = FrameDecoder(MAX)
    decoder.feed(truncated)
    got = [decode_envelope(b) for b in _bodies(decoder)]
    assert got == [Envelope(c, p) for c, p in messages][: len(got)]
    if cut == 0:
        assert len(got) == len(messages)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=MAX + 1, max_value=2**32 - 1), st.binary(max_size=64))
def test_fuzz_huge_lengths_are_refused_at_once(length: int, tail: bytes) -> None:
    decoder = FrameDecoder(MAX)
    decoder.feed(length.to_bytes(4, "big") + tail)
    with pytest.raises(FrameTooLargeError):
        decoder.next_body()
