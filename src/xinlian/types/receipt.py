"""Receipts and events: what executing a transaction produced."""

from enum import IntEnum

from msgspec import Struct

from xinlian.types.ints import U64


class TxStatus(IntEnum):
    """Outcome of a transaction. Anything but ``OK`` rolled the call's writes back."""

    OK = 0
    FAILED = 1
    OUT_OF_GAS = 2
    PERMISSION_DENIED = 3
    INVALID_ARGS = 4
    UNKNOWN_TARGET = 5


class Event(Struct, array_like=True, frozen=True):
    """A typed, indexed fact emitted by an app (``type`` such as ``"kv.put"``)."""

    type: str
    attributes: dict[str, str]


class Receipt(Struct, array_like=True, frozen=True):
    """Result of one transaction in a block.

    Attributes:
        tx_hash: the transaction's hash.
        status: a ``TxStatus`` value.
        gas_used: gas charged, also on failure (the nonce is consumed either way).
        events: events emitted; empty when the call failed.
        error: a human-readable reason when ``status`` is not OK.
        output: the call's return value as canonical bytes (empty when none).
    """

    tx_hash: bytes
    status: U64
    gas_used: U64
    events: list[Event]
    error: str
    output: bytes
