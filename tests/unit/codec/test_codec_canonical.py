"""The canonical codec: one encoding per value, strict decoding, argument checks."""

from __future__ import annotations

import struct
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from record_strategies import events, receipts, signed_txs, votes

from xinlian.codec import CodecError, decode, decode_args, encode, encode_args, to_builtins
from xinlian.types import (
    Block,
    BlockHeader,
    Commit,
    CommitSig,
    Event,
    MerkleProof,
    Receipt,
    SignedTransaction,
    StateProof,
    StateProofStep,
    Transaction,
    Validator,
    ValidatorSet,
    Vote,
)

SETTINGS = settings(max_examples=150, deadline=None)

NOT_CANONICAL = "not the canonical encoding of"

# ---------------------------------------------------------------------------------------
# msgpack integer forms, written out by hand
# ---------------------------------------------------------------------------------------


def int_forms(value: int) -> list[bytes]:
    """Every msgpack encoding of ``value`` (fixint, uint8..64, int8..64)."""
    forms: list[bytes] = []
    if 0 <= value <= 0x7F or -32 <= value < 0:
        forms.append(struct.pack(">b", value))
    for tag, fmt, lo, hi in (
        (0xCC, ">B", 0, 2**8 - 1),
        (0xCD, ">H", 0, 2**16 - 1),
        (0xCE, ">I", 0, 2**32 - 1),
        (0xCF, ">Q", 0, 2**64 - 1),
        (0xD0, ">b", -(2**7), 2**7 - 1),
        (0xD1, ">h", -(2**15), 2**15 - 1),
        (0xD2, ">i", -(2**31), 2**31 - 1),
        (0xD3, ">q", -(2**63), 2**63 - 1),
    ):
        if lo <= value <= hi:
            forms.append(bytes([tag]) + struct.pack(fmt, value))
    return forms


BOUNDARY_INTS = [
    0,
    1,
    5,
    127,
    128,
    255,
    256,
    65535,
    65536,
    2**32 - 1,
    2**32,
    2**63 - 1,
    2**63,
    2**64 - 1,
    -1,
    -32,
    -33,
    -128,
    -129,
    -32768,
    -32769,
    -(2**31),
    -(2**31) - 1,
    -(2**63),
]


@pytest.mark.parametrize("value", BOUNDARY_INTS)
def test_integer_has_exactly_one_accepted_form(value: int) -> None:
    canonical = encode(value)
    forms = int_forms(value)
    assert canonical in forms
    assert decode(canonical, int) == value
    for form in forms:
        if form == canonical:
            continue
        with pytest.raises(CodecError, match=f"{NOT_CANONICAL} int .*non-minimal integer"):
            decode(form, int)


@SETTINGS
@given(st.integers(-(2**63), 2**64 - 1))
def test_integer_canonical_form_is_the_shortest(value: int) -> None:
    canonical = encode(value)
    assert len(canonical) == min(len(f) for f in int_forms(value))
    assert decode(canonical, int) == value
    for form in int_forms(value):
        if form != canonical:
            with pytest.raises(CodecError):
                decode(form, int)


def test_non_minimal_five_is_rejected_with_clear_message() -> None:
    with pytest.raises(CodecError) as info:
        decode(b"\xcc\x05", int)
    assert str(info.value) == (
        "not the canonical encoding of int (re-encoding differs: non-minimal integer, "
        "unsorted map, extra fields or trailing bytes)"
    )


def test_non_minimal_integer_inside_a_record_is_rejected() -> None:
    tx = Transaction("c", b"k" * 32, 5, "kv", "put", b"", 100, 10)
    raw = encode(tx)
    # nonce 5 is the fixint 0x05 right after the 32-byte sender
    sender_end = raw.index(b"k" * 32) + 32
    assert raw[sender_end] == 0x05
    bad = raw[:sender_end] + b"\xcc\x05" + raw[sender_end + 1 :]
    assert msgspec.msgpack.decode(bad, type=Transaction) == tx  # msgspec alone accepts it
    with pytest.raises(CodecError, match=f"{NOT_CANONICAL} Transaction"):
        decode(bad, Transaction)


def test_float_is_not_an_integer() -> None:
    with pytest.raises(CodecError, match=r"cannot decode int: Expected `int`, got `float`"):
        decode(b"\xcb" + struct.pack(">d", 5.0), int)


def test_bool_and_int_do_not_mix() -> None:
    with pytest.raises(CodecError, match="Expected `int`, got `bool`"):
        decode(b"\xc3", int)
    with pytest.raises(CodecError, match="Expected `bool`, got `int`"):
        decode(b"\x01", bool)


# ---------------------------------------------------------------------------------------
# strings, binaries, containers
# ---------------------------------------------------------------------------------------


def test_str_and_bin_are_not_interchangeable() -> None:
    tx = Transaction("c", b"k" * 32, 0, "kv", "put", b"", 100, 10)
    raw = encode(tx)
    chain_as_bin = raw.replace(b"\xa1c", b"\xc4\x01c", 1)
    with pytest.raises(
        CodecError, match=r"cannot decode Transaction: Expected `str`, got `bytes` - at `\$\[0\]`"
    ):
        decode(chain_as_bin, Transaction)
    sender_as_str = raw.replace(b"\xc4\x20" + b"k" * 32, b"\xd9\x20" + b"k" * 32, 1)
    with pytest.raises(
        CodecError, match=r"cannot decode Transaction: Expected `bytes`, got `str` - at `\$\[1\]`"
    ):
        decode(sender_as_str, Transaction)
    assert decode(b"\xa2hi", str) == "hi"
    with pytest.raises(CodecError, match="Expected `bytes`, got `str`"):
        decode(b"\xa2hi", bytes)
    with pytest.raises(CodecError, match="Expected `str`, got `bytes`"):
        decode(b"\xc4\x02hi", str)


@pytest.mark.parametrize(
    ("raw", "tp"),
    [
        (b"\xd9\x02hi", str),  # str8 for a 2-byte string (fixstr is shorter)
        (b"\xda\x00\x02hi", str),  # str16
        (b"\xc5\x00\x02hi", bytes),  # bin16 for 2 bytes
        (b"\xdc\x00\x01\x01", list[int]),  # array16 for one element
        (b"\xde\x00\x01\xa1a\x01", dict[str, int]),  # map16 for one entry
    ],
)
def test_non_minimal_lengths_are_rejected(raw: bytes, tp: Any) -> None:
    assert msgspec.msgpack.decode(raw, type=tp) is not None
    with pytest.raises(CodecError, match=NOT_CANONICAL):
        decode(raw, tp)


def test_event_attributes_out_of_order_are_rejected() -> None:
    event = Event("kv.put", {"key": "k", "writer": "w"})
    raw = encode(event)
    assert raw == b"\x92\xa6kv.put\x82\xa3key\xa1k\xa6writer\xa1w"
    swapped = b"\x92\xa6kv.put\x82\xa6writer\xa1w\xa3key\xa1k"
    assert msgspec.msgpack.decode(swapped, type=Event) == event
    with pytest.raises(CodecError, match=f"{NOT_CANONICAL} Event .*unsorted map"):
        decode(swapped, Event)


def test_duplicate_map_keys_are_rejected() -> None:
    raw = b"\x82\xa1a\xa1x\xa1a\xa1y"
    with pytest.raises(CodecError, match=NOT_CANONICAL):
        decode(raw, dict[str, str])


def test_map_keys_are_sorted_whatever_the_insertion_order() -> None:
    assert encode({"b": 1, "a": 2, "c": 3}) == encode({"c": 3, "a": 2, "b": 1})
    assert encode({"b": 1, "a": 2}) == b"\x82\xa1a\x02\xa1b\x01"


def test_trailing_bytes_are_rejected() -> None:
    raw = encode(Vote("c", 1, 2, 0, b"h"))
    with pytest.raises(CodecError, match=r"cannot decode Vote: .*trailing characters"):
        decode(raw + b"\x00", Vote)


def test_extra_array_element_is_rejected() -> None:
    vote = Vote("c", 1, 2, 0, b"h")
    raw = encode(vote)
    assert raw[0] == 0x95
    extra = b"\x96" + raw[1:] + b"\xc0"
    assert msgspec.msgpack.decode(extra, type=Vote) == vote  # msgspec ignores the extra
    with pytest.raises(CodecError, match=f"{NOT_CANONICAL} Vote .*extra fields"):
        decode(extra, Vote)


def test_missing_array_element_is_rejected() -> None:
    raw = encode(Vote("c", 1, 2, 0, b"h"))
    short = b"\x94" + raw[1 : len(raw) - 3]  # drop block_hash (0xc4 0x01 "h")
    with pytest.raises(CodecError, match="cannot decode Vote: Expected `array` of at least"):
        decode(short, Vote)


def test_record_as_map_is_rejected() -> None:
    as_map = encode({"chain_id": "c", "type": 1, "height": 2, "round": 0, "block_hash": b"h"})
    with pytest.raises(CodecError, match="cannot decode Vote: Expected `array`, got `object`"):
        decode(as_map, Vote)


def test_malformed_bytes_raise_codec_error() -> None:
    with pytest.raises(CodecError, match=r"cannot decode Transaction: .*malformed"):
        decode(b"\xc1", Transaction)  # 0xc1 is never used in msgpack
    with pytest.raises(CodecError, match=r"cannot decode int: the data ends early \(truncated\)"):
        decode(b"", int)
    with pytest.raises(CodecError, match=r"^cannot decode int: "):
        decode(b"\xd4\x01\x00", int)  # an ext value where an int belongs


def test_invalid_utf8_is_a_codec_error() -> None:
    """msgspec raises UnicodeDecodeError (before 0.23) or DecodeError (0.23 on) here;
    decode must turn either into a CodecError with our own wording, or a transaction with a
    bad chain id would escape the mempool's ``except CodecError``."""
    with pytest.raises(CodecError, match="cannot decode str: a string is not valid UTF-8"):
        decode(b"\xa3\x00\x00\x80", str)
    tx = Transaction("c", b"k" * 32, 0, "kv", "put", b"", 100, 10)
    bad = encode(tx).replace(b"\xa1c", b"\xa1\xff", 1)
    with pytest.raises(CodecError, match="cannot decode Transaction: a string is not valid UTF-8"):
        decode(bad, Transaction)


def test_deep_nesting_is_a_codec_error() -> None:
    with pytest.raises(CodecError, match=r"cannot decode .*: nested too deeply"):
        decode(b"\x91" * 100_000 + b"\xc0", Any)
    with pytest.raises(CodecError, match="cannot decode dict: nested too deeply"):
        decode(b"\x81\xa1a" * 100_000 + b"\xc0", dict[str, Any])


def test_codec_error_is_a_value_error() -> None:
    assert issubclass(CodecError, ValueError)


# ---------------------------------------------------------------------------------------
# records: truncation and random input
# ---------------------------------------------------------------------------------------

SAMPLES: list[object] = [
    Transaction("xl", b"\x01" * 32, 7, "kv", "put", encode_args({"key": "a", "value": "b"}), 5, 9),
    Receipt(b"\x02" * 32, 0, 1234, [Event("kv.put", {"key": "a", "writer": "w"})], "", b"\xc0"),
    Vote("xl", 2, 10, 1, b"\x03" * 32),
    Commit(10, 1, b"\x03" * 32, [CommitSig(0, b"\x04" * 64), CommitSig(2, b"\x05" * 64)]),
    MerkleProof(3, 7, [b"\x06" * 32, b"\x07" * 32]),
    StateProof([StateProofStep(4, [b"", b"\x08" * 32])], b"\x09" * 32, b""),
    ValidatorSet([Validator(b"\x0a" * 32, 10, "v0"), Validator(b"\x0b" * 32, 1, "v1")]),
]


@pytest.mark.parametrize("value", SAMPLES, ids=lambda v: type(v).__name__)
def test_every_strict_prefix_is_rejected(value: object) -> None:
    raw = encode(value)
    tp = type(value)
    assert decode(raw, tp) == value
    for cut in range(len(raw)):
        with pytest.raises(CodecError, match=f"cannot decode {tp.__name__}"):
            decode(raw[:cut], tp)


@SETTINGS
@given(st.one_of(signed_txs, receipts, votes), st.data())
def test_truncated_records_are_rejected(value: object, data: st.DataObject) -> None:
    raw = encode(value)
    cut = data.draw(st.integers(0, len(raw) - 1))
    with pytest.raises(CodecError):
        decode(raw[:cut], type(value))


RECORD_TYPES: list[Any] = [
    Transaction,
    SignedTransaction,
    BlockHeader,
    Block,
    Vote,
    Commit,
    Receipt,
    Event,
    ValidatorSet,
    MerkleProof,
    StateProof,
    int,
    str,
    bytes,
    list[int],
    dict[str, str],
]


def _decode_or_codec_error(data: bytes, tp: Any) -> None:
    try:
        value = decode(data, tp)
    except CodecError:
        return
    assert encode(value) == data


@SETTINGS
@given(st.binary(max_size=80), st.sampled_from(RECORD_TYPES))
def test_random_bytes_are_rejected_or_canonical(data: bytes, tp: Any) -> None:
    _decode_or_codec_error(data, tp)


@SETTINGS
@given(st.one_of(signed_txs, receipts, votes, events), st.data())
def test_mutated_encodings_are_rejected_or_canonical(value: object, data: st.DataObject) -> None:
    raw = bytearray(encode(value))
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "insert":
            raw.insert(pos, data.draw(st.integers(0, 255)))
        elif raw:
            del raw[pos]
    _decode_or_codec_error(bytes(raw), type(value))


# ---------------------------------------------------------------------------------------
# map-shaped records (app arguments) and encode_args
# ---------------------------------------------------------------------------------------


class _Args(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Fields declared out of alphabetical order, like identity.RegisterAccountArgs."""

    zeta: int
    alpha: bytes
    mid: list[str]


def test_map_shaped_record_encodes_like_encode_args() -> None:
    """A client builds arguments as a dict with ``encode_args``; an app decodes them into a
    record. Both must agree on one byte string, so record fields are sorted like map keys."""
    from_dict = encode_args({"zeta": 1, "alpha": b"\x00", "mid": ["x"]})
    from_record = encode(_Args(1, b"\x00", ["x"]))
    assert from_dict == from_record
    assert from_dict == b"\x83\xa5alpha\xc4\x01\x00\xa3mid\x91\xa1x\xa4zeta\x01"
    assert decode_args(from_dict, _Args) == _Args(1, b"\x00", ["x"])


def test_map_shaped_record_rejects_unknown_and_missing_fields() -> None:
    with pytest.raises(CodecError, match="Object contains unknown field `extra`"):
        decode_args(encode_args({"zeta": 1, "alpha": b"", "mid": [], "extra": 0}), _Args)
    with pytest.raises(CodecError, match="Object missing required field `mid`"):
        decode_args(encode_args({"zeta": 1, "alpha": b""}), _Args)


def test_map_shaped_record_fields_out_of_order_are_rejected() -> None:
    declared_order = b"\x83\xa4zeta\x01\xa5alpha\xc4\x01\x00\xa3mid\x91\xa1x"
    with pytest.raises(CodecError, match=f"{NOT_CANONICAL} _Args"):
        decode_args(declared_order, _Args)


def _nest(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A named function: hypothesis inspects the source of a multi-line lambda unreliably.
    return st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=6), children, max_size=4
    )


arg_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.text(max_size=8)
    | st.binary(max_size=8),
    _nest,
    max_leaves=20,
)


@SETTINGS
@given(st.dictionaries(st.text(max_size=8), arg_values, max_size=5))
def test_encode_args_round_trips(args: dict[str, Any]) -> None:
    raw = encode_args(args)
    assert decode(raw, dict[str, Any]) == args
    shuffled = dict(reversed(list(args.items())))
    assert encode_args(shuffled) == raw


def test_encode_args_accepts_the_64_bit_range() -> None:
    raw = encode_args({"hi": 2**64 - 1, "lo": -(2**63)})
    assert decode(raw, dict[str, int]) == {"hi": 2**64 - 1, "lo": -(2**63)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"x": 1.5}, "args.x: floats are not allowed (non-deterministic); use integers"),
        ({"a": [1, {"b": 0.0}]}, "args.a[1].b: floats are not allowed"),
        ({"x": 2**64}, "args.x: integer 18446744073709551616 outside the 64-bit range"),
        ({"x": [-(2**63) - 1]}, "args.x[0]: integer -9223372036854775809 outside the 64-bit"),
        ({"m": {1: "x"}}, "args.m: map keys must be strings, got int"),
        ({"m": {b"k": "x"}}, "args.m: map keys must be strings, got bytes"),
        ({"s": {1, 2}}, "args.s: values of type set are not allowed"),
        ({"t": (1, 2)}, "args.t: values of type tuple are not allowed"),
        ({"l": [[{"f": frozenset()}]]}, "args.l[0][0].f: values of type frozenset are not"),
        ({"o": object()}, "args.o: values of type object are not allowed"),
    ],
)
def test_encode_args_refuses_with_path(args: dict[str, Any], message: str) -> None:
    with pytest.raises(CodecError) as info:
        encode_args(args)
    assert str(info.value).startswith(message)


def _nest(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def test_encode_args_nesting_limit() -> None:
    # args is depth 0, args.x depth 1, each list adds one: 31 lists put the int at depth 32
    assert decode(encode_args({"x": _nest(31)}), dict[str, Any]) == {"x": _nest(31)}
    with pytest.raises(CodecError) as info:
        encode_args({"x": _nest(32)})
    assert str(info.value) == "args.x" + "[0]" * 32 + ": nested deeper than 32"


def test_encode_args_requires_a_map() -> None:
    with pytest.raises(CodecError, match="arguments must be a map of names to values"):
        encode_args([1, 2])  # type: ignore[arg-type]


def test_to_builtins_names_fields_and_hexes_bytes() -> None:
    receipt = Receipt(b"\xab\xcd", 0, 7, [Event("t", {"k": "v"})], "", b"\x01")
    assert to_builtins(receipt) == {
        "tx_hash": "abcd",
        "status": 0,
        "gas_used": 7,
        "events": [{"type": "t", "attributes": {"k": "v"}}],
        "error": "",
        "output": "01",
    }
    assert to_builtins({1: [b"\xff", (2, None)]}) == {"1": ["ff", [2, None]]}
