"""Core records: canonical round trips, fixed array layout, immutability, helpers."""

from __future__ import annotations

import hashlib

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from record_strategies import ALL_RECORDS, signed_txs

from xinlian.codec import CodecError, decode, encode
from xinlian.types import (
    BlockHeader,
    Commit,
    Receipt,
    SignedTransaction,
    Transaction,
    TxStatus,
    Validator,
    ValidatorSet,
    Vote,
    VoteType,
)
from xinlian.types.genesis import ChainParams, Genesis, GenesisOrg

SETTINGS = settings(max_examples=120, deadline=None)


@pytest.mark.parametrize("name", sorted(ALL_RECORDS))
def test_round_trip(name: str) -> None:
    @SETTINGS
    @given(ALL_RECORDS[name])
    def check(value: msgspec.Struct) -> None:
        raw = encode(value)
        decoded = decode(raw, type(value))
        assert decoded == value
        assert encode(decoded) == raw

    check()


@SETTINGS
@given(st.one_of(*ALL_RECORDS.values()))
def test_records_are_arrays_with_one_slot_per_field(value: msgspec.Struct) -> None:
    as_builtins = msgspec.msgpack.decode(encode(value))
    assert isinstance(as_builtins, list)
    assert len(as_builtins) == len(value.__struct_fields__)


@SETTINGS
@given(signed_txs, st.data())
def test_a_record_does_not_decode_as_another(stx: SignedTransaction, data: st.DataObject) -> None:
    other = data.draw(st.sampled_from([Transaction, BlockHeader, Vote, Receipt, Commit]))
    with pytest.raises(CodecError, match=f"cannot decode {other.__name__}"):
        decode(encode(stx), other)


def test_transaction_golden_bytes() -> None:
    """The canonical bytes of a transaction (and so every hash and signature) are fixed."""
    tx = Transaction("xl", b"\x01" * 32, 1, "kv", "put", b"\x80", 21000, 100)
    raw = encode(tx)
    assert raw == (
        b"\x98\xa2xl\xc4\x20" + b"\x01" * 32 + b"\x01\xa2kv\xa3put\xc4\x01\x80\xcd\x52\x08\x64"
    )
    assert (
        hashlib.sha256(raw).hexdigest()
        == "e45c5f6778643b05a04340683d630f71179e0617346f3af16f12566a333b4152"
    )
    stx = SignedTransaction(tx, b"\x02" * 64)
    assert encode(stx) == b"\x92" + raw + b"\xc4\x40" + b"\x02" * 64


def test_header_golden_bytes() -> None:
    h = BlockHeader("xl", 3, 1000, *(bytes([i]) * 32 for i in range(6)), b"\x07" * 32)
    raw = encode(h)
    assert raw[:11] == b"\x9a\xa2xl\x03\xcd\x03\xe8\xc4\x20\x00"
    assert len(raw) == 1 + 3 + 1 + 3 + 7 * 34
    assert decode(raw, BlockHeader) == h


def test_records_are_frozen() -> None:
    tx = Transaction("xl", b"", 0, "kv", "put", b"", 0, 0)
    with pytest.raises(AttributeError):
        tx.nonce = 1  # type: ignore[misc]
    vs = ValidatorSet([Validator(b"k", 1, "v")])
    with pytest.raises(AttributeError):
        vs.validators = []  # type: ignore[misc]


def test_records_are_hashable_and_comparable() -> None:
    a = Vote("xl", 1, 2, 0, b"h")
    b = Vote("xl", 1, 2, 0, b"h")
    assert a == b
    assert len({a, b}) == 1
    assert a != Vote("xl", 2, 2, 0, b"h")


def test_enum_values_are_fixed() -> None:
    assert [int(v) for v in VoteType] == [1, 2]
    assert {s.name: int(s) for s in TxStatus} == {
        "OK": 0,
        "FAILED": 1,
        "OUT_OF_GAS": 2,
        "PERMISSION_DENIED": 3,
        "INVALID_ARGS": 4,
        "UNKNOWN_TARGET": 5,
    }


@pytest.mark.parametrize(
    ("powers", "total", "quorum"),
    [([1], 1, 1), ([1, 1, 1], 3, 3), ([1, 1, 1, 1], 4, 3), ([10, 5, 5], 20, 14), ([], 0, 1)],
)
def test_validator_set_power_and_quorum(powers: list[int], total: int, quorum: int) -> None:
    vs = ValidatorSet([Validator(bytes([i]) * 32, p, f"v{i}") for i, p in enumerate(powers)])
    assert vs.total_power == total
    assert vs.quorum() == quorum


@SETTINGS
@given(st.lists(st.integers(1, 10**12), min_size=1, max_size=10))
def test_quorum_is_the_smallest_power_above_two_thirds(powers: list[int]) -> None:
    vs = ValidatorSet([Validator(bytes([i]), p, "") for i, p in enumerate(powers)])
    q = vs.quorum()
    assert q * 3 > vs.total_power * 2
    assert (q - 1) * 3 <= vs.total_power * 2


def test_genesis_json_rejects_unknown_fields_and_fills_defaults() -> None:
    doc = (
        b'{"chain_id": "xl", "suite": "ed25519", "time_ms": 1, '
        b'"orgs": [{"id": "a", "name": "A"}], "accounts": [], "validators": []}'
    )
    genesis = msgspec.json.decode(doc, type=Genesis)
    assert genesis.orgs == [GenesisOrg("a", "A")]
    assert genesis.params == ChainParams(20000, 3_670_016, 250_000_000, 8_388_608)
    with pytest.raises(msgspec.ValidationError, match="unknown field `colour`"):
        msgspec.json.decode(doc[:-1] + b', "colour": 1}', type=Genesis)


def test_negative_integers_are_refused_where_fields_are_unsigned() -> None:
    import msgspec as _msgspec

    from xinlian.codec import CodecError, decode
    from xinlian.types import Transaction

    raw = _msgspec.msgpack.encode(["c", b"k", -1, "kv", "put", b"\x80", 1000, 5])
    with pytest.raises(CodecError, match=r"Expected `int` >= 0"):
        decode(raw, Transaction)
