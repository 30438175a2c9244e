"""The crypto-suite interface shared by every part that hashes, signs or encrypts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class CryptoError(Exception):
    """Base of crypto errors: bad key material, failed decryption, unknown suite."""


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A private key (suite encoding, 32 bytes) and its public key (suite encoding)."""

    suite: str
    private_key: bytes
    public_key: bytes


class CryptoSuite(Protocol):
    """Hash, signature and symmetric-encryption operations of one suite.

    Public keys, private keys and signatures are plain ``bytes`` in the suite's fixed
    encoding (see ``docs/data-formats.md``), so they travel inside canonical records.
    """

    name: str
    hash_name: str  # "sha256" or "sm3"
    public_key_size: int
    signature_size: int

    def hash(self, data: bytes) -> bytes:
        """Return the 32-byte digest of ``data``."""
        ...

    def generate(self) -> KeyPair:
        """Create a new random key pair."""
        ...

    def keypair_from_private(self, private_key: bytes) -> KeyPair:
        """Rebuild a key pair from its private key; raises ``CryptoError`` if invalid."""
        ...

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Sign ``message`` (the suite hashes it as its scheme requires)."""
        ...

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Return True only for a valid signature; never raises on malformed input."""
        ...

    def encrypt(self, key: bytes, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        """Authenticated symmetric encryption; returns nonce || ciphertext || tag."""
        ...

    def decrypt(self, key: bytes, ciphertext: bytes, associated_data: bytes = b"") -> bytes:
        """Inverse of ``encrypt``; raises ``CryptoError`` when authentication fails."""
        ...


def get_suite(name: str) -> CryptoSuite:
    """Return the suite called ``name`` (``"ed25519"`` or ``"sm"``)."""
    if name == "ed25519":
        from xinlian.crypto.ed25519 import ED25519

        return ED25519
    if name == "sm":
        from xinlian.crypto.sm import SM

        return SM
    raise CryptoError(f"unknown crypto suite {name!r}; choose 'ed25519' or 'sm'")


_ADDRESSES: dict[tuple[str, bytes], str] = {}
_ADDRESSES_MAX = 65536


def address_of(suite: CryptoSuite, public_key: bytes) -> str:
    """An account's address: the first 20 bytes of the suite hash of its public key, in hex.

    Cached: admission derives the sender's address for every transaction.
    """
    key = (suite.name, public_key)
    address = _ADDRESSES.get(key)
    if address is None:
        if len(_ADDRESSES) >= _ADDRESSES_MAX:
            _ADDRESSES.clear()
        address = _ADDRESSES[key] = suite.hash(public_key)[:20].hex()
    return address
