"""Building and signing transactions, offline.

A :class:`Signer` holds one account key and turns calls into signed transactions whose
hash is known before they are sent::

    signer = Signer.from_file("keys/org1-writer.key")
    tx = signer.build(chain_id="xinlian-dev", nonce=0, target="kv", method="put",
                      args={"key": "a", "value": "b"}, expiry=1000)
    tx.hash.hex(), tx.raw        # the transaction id and the bytes to submit
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xinlian.codec import CodecError, encode, encode_args
from xinlian.crypto import CryptoError, CryptoSuite, KeyPair, address_of, get_suite
from xinlian.protocol import ProtocolError
from xinlian.protocol.keyfile import read_key_file as _read_key_file
from xinlian.sdk.errors import XinlianError
from xinlian.types import SignedTransaction, Transaction
from xinlian.types.trace import (
    UPLOAD_KEY_HEADER,
    UPLOAD_SIGNATURE_HEADER,
    UPLOAD_TIME_HEADER,
    UploadAuth,
)

__all__ = [
    "DEFAULT_EXPIRY_BLOCKS",
    "DEFAULT_GAS_LIMIT",
    "SignedTx",
    "Signer",
    "encode_call_args",
    "load_key",
    "read_key_file",
    "transaction_hash",
]

#: Gas limit used when a call names none (the chain's per-transaction maximum is higher).
DEFAULT_GAS_LIMIT = 1_000_000
#: How many blocks past the current height a new transaction stays valid.
DEFAULT_EXPIRY_BLOCKS = 1000


def encode_call_args(args: Mapping[str, Any] | bytes | None) -> bytes:
    """Canonical argument bytes of a call.

    ``args`` is a map of names to values (ints, strings, bytes, bools, None, lists and
    maps of those; no floats), already-encoded canonical bytes, or None for no arguments.

    Raises:
        XinlianError: the map holds a value that cannot be encoded canonically.
    """
    if args is None:
        return encode_args({})
    if isinstance(args, bytes):
        return args
    try:
        return encode_args(dict(args))
    except CodecError as exc:
        raise XinlianError(f"cannot encode arguments: {exc}") from None


def transaction_hash(suite: CryptoSuite, stx: SignedTransaction) -> bytes:
    """The transaction id: the suite hash of the signed transaction's canonical bytes."""
    return suite.hash(encode(stx))


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A signed transaction ready to submit.

    Attributes:
        stx: the signed record.
        raw: its canonical bytes (what the node receives).
        hash: its id, ``suite.hash(raw)``.
    """

    stx: SignedTransaction
    raw: bytes
    hash: bytes

    @property
    def tx(self) -> Transaction:
        """The signed body."""
        return self.stx.tx

    @property
    def nonce(self) -> int:
        """The body's nonce."""
        return self.stx.tx.nonce


def read_key_file(path: str | Path) -> tuple[KeyPair, str]:
    """Load a key file written by ``xinlian keys new`` or ``xinlian init``
    (:func:`xinlian.protocol.keyfile.read_key_file`): the key pair and the key's name.

    Raises:
        XinlianError: the file is missing or unreadable, is not a key file, or its keys
            do not match; the message names the file, what is wrong and what to do.
    """
    try:
        return _read_key_file(path)
    except ProtocolError as exc:
        raise XinlianError(str(exc)) from None


def load_key(path: str | Path) -> KeyPair:
    """The key pair of a key file (see :func:`read_key_file`)."""
    return read_key_file(path)[0]


class Signer:
    """Signs transactions with one account key.

    Args:
        key: the account's key pair; its ``suite`` must be the chain's suite.
    """

    def __init__(self, key: KeyPair) -> None:
        try:
            self.suite: CryptoSuite = get_suite(key.suite)
        except CryptoError as exc:
            raise XinlianError(str(exc)) from None
        self.key = key
        self.address = address_of(self.suite, key.public_key)

    @classmethod
    def generate(cls, suite: str = "ed25519") -> Signer:
        """A signer with a new random key of ``suite``."""
        try:
            return cls(get_suite(suite).generate())
        except CryptoError as exc:
            raise XinlianError(str(exc)) from None

    @classmethod
    def from_file(cls, path: str | Path) -> Signer:
        """A signer with the key of a key file (see :func:`read_key_file`)."""
        return cls(read_key_file(path)[0])

    @property
    def public_key(self) -> bytes:
        """The account's public key (the ``sender`` of its transactions)."""
        return self.key.public_key

    def sign(self, tx: Transaction) -> SignedTx:
        """Sign a transaction body; its ``sender`` must be this signer's public key."""
        if tx.sender != self.key.public_key:
            raise XinlianError("the transaction's sender is not this signer's public key")
        signature = self.suite.sign(self.key.private_key, encode(tx))
        stx = SignedTransaction(tx, signature)
        raw = encode(stx)
        return SignedTx(stx, raw, self.suite.hash(raw))

    def sign_upload(self, *, chain_id: str, path: str, body: bytes, time_ms: int) -> dict[str, str]:
        """The headers that authenticate an off-chain upload (a request that makes the
        node store bytes, such as ``POST /v1/trace/documents``) of ``body`` to ``path``."""
        auth = UploadAuth(chain_id, path, time_ms, self.suite.hash(body))
        signature = self.suite.sign(self.key.private_key, encode(auth))
        return {
            UPLOAD_KEY_HEADER: self.key.public_key.hex(),
            UPLOAD_TIME_HEADER: str(time_ms),
            UPLOAD_SIGNATURE_HEADER: signature.hex(),
        }

    def build(
        self,
        *,
        chain_id: str,
        nonce: int,
        target: str,
        method: str,
        args: Mapping[str, Any] | bytes | None = None,
        gas_limit: int = DEFAULT_GAS_LIMIT,
        expiry: int,
    ) -> SignedTx:
        """Build and sign a call of ``target.method(args)``.

        Args:
            chain_id: the chain's id (from ``/v1/status`` or the genesis document).
            nonce: the sender's next nonce.
            target: the app (``"kv"``, ``"identity"``, ``"governance"``) or contract.
            method: the method to call.
            args: the arguments (see :func:`encode_call_args`).
            gas_limit: the most gas the call may use.
            expiry: the last block height at which the transaction may be included.
        """
        if nonce < 0 or gas_limit < 0 or expiry < 0:
            raise XinlianError("nonce, gas limit and expiry must not be negative")
        tx = Transaction(
            chain_id=chain_id,
            sender=self.key.public_key,
            nonce=nonce,
            target=target,
            method=method,
            args=encode_call_args(args),
            gas_limit=gas_limit,
            expiry=expiry,
        )
        return self.sign(tx)

    def __repr__(self) -> str:
        return f"Signer(suite={self.suite.name!r}, address={self.address!r})"
