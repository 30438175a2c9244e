"""The node protocol's records: strict decoding, bounds, and garbage never crashing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.codec import CodecError, decode, encode
from xinlian.consensus import SignedProposal, SignedVote
from xinlian.node.wire import (
    MAX_BLOCKS_PER_RESPONSE,
    MAX_TX_BATCH,
    BlockRequest,
    BlockResponse,
    NodeStatus,
    TxBatch,
)

RECORDS = (TxBatch, NodeStatus, BlockRequest, BlockResponse, SignedProposal, SignedVote)


def test_records_round_trip() -> None:
    for record in (TxBatch([b"a", b"bc"]), NodeStatus(7), BlockRequest(3, 64), BlockResponse([])):
        assert decode(encode(record), type(record)) == record


@pytest.mark.parametrize(
    ("payload", "record", "message"),
    [
        (b"\x92\x00\x01", BlockRequest, "Expected `int` >= 1"),
        (b"\x92\x01\xcc\xff", BlockRequest, f"Expected `int` <= {MAX_BLOCKS_PER_RESPONSE}"),
        (b"\x91\xff", NodeStatus, "Expected `int` >= 0"),
        (b"\x91\xc0", NodeStatus, "Expected `int`, got `None`"),
    ],
)
def test_out_of_bounds_fields_are_refused(payload: bytes, record: type, message: str) -> None:
    with pytest.raises(CodecError) as caught:
        decode(payload, record)
    assert message in str(caught.value)


def test_a_tx_batch_is_bounded() -> None:
    too_many = (
        b"\x91\xdc" + (MAX_TX_BATCH + 1).to_bytes(2, "big") + b"\xc4\x00" * (MAX_TX_BATCH + 1)
    )
    with pytest.raises(CodecError) as caught:
        decode(too_many, TxBatch)
    assert f"Expected `array` of length <= {MAX_TX_BATCH}" in str(caught.value)


def test_non_canonical_bytes_are_refused() -> None:
    # 7 as a 2-byte integer instead of a fixint: same value, different bytes.
    with pytest.raises(CodecError):
        decode(b"\x91\xcd\x00\x07", NodeStatus)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(RECORDS))
def test_random_bytes_decode_or_raise_codec_error(payload: bytes, record: type) -> None:
    try:
        decoded = decode(payload, record)
    except CodecError:
        return
    assert encode(decoded) == payload
