"""Transactions: the signed unit of change."""

from typing import Any, NamedTuple

from msgspec import Struct

from xinlian.types.ints import U64


class Transaction(Struct, array_like=True, frozen=True):
    """The body a sender signs.

    Attributes:
        chain_id: the chain this transaction is valid on (replay protection across chains).
        sender: the sender's public key in its suite's encoding.
        nonce: per-sender counter; must equal the sender's next nonce when executed.
        target: a built-in app name (``"kv"``, ``"governance"``) or a contract address.
        method: the method to call on the target.
        args: the call's arguments as canonical bytes (an encoded map, see codec.encode_args).
        gas_limit: the most gas the call may use.
        expiry: the last block height at which the transaction may be included.
    """

    chain_id: str
    sender: bytes
    nonce: U64
    target: str
    method: str
    args: bytes
    gas_limit: U64
    expiry: U64


class SignedTransaction(Struct, array_like=True, frozen=True):
    """A transaction body with the sender's signature over ``codec.encode(tx)``.

    Its hash (the transaction id) is the suite hash over ``codec.encode(self)``, so a client
    knows it before submitting and can retry or look the result up after a timeout.
    """

    tx: Transaction
    signature: bytes


class TxEnvelope(NamedTuple):
    """A checked transaction as it moves through a node: decoded, raw bytes, hash, sender.

    Not a wire record: built once on admission so later stages never re-encode or re-hash.
    ``args`` is the call's arguments decoded into the target method's record when the
    mempool checked them (None otherwise); execution uses it instead of decoding again.
    """

    stx: SignedTransaction
    raw: bytes
    hash: bytes
    sender_address: str
    args: Any = None
