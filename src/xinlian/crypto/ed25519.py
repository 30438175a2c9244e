"""The ``ed25519`` suite: Ed25519 (libsodium via PyNaCl), SHA-256 and AES-256-GCM.

One library (libsodium) does every consensus-critical verification on every node, so all
nodes accept exactly the same signatures.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache

import nacl.bindings
import nacl.exceptions
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from xinlian.crypto.suite import CryptoError, KeyPair

_NONCE = 12


@lru_cache(maxsize=64)
def _expanded(seed: bytes) -> bytes:
    """libsodium's 64-byte signing key for a seed (cached: expanding costs a scalar mult)."""
    _, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
    return bytes(secret)


class Ed25519Suite:
    """Ed25519 signatures with 32-byte seeds as private keys and 32-byte public keys."""

    name = "ed25519"
    hash_name = "sha256"
    public_key_size = 32
    signature_size = 64

    def hash(self, data: bytes) -> bytes:
        """SHA-256 of ``data``."""
        return hashlib.sha256(data).digest()

    def generate(self) -> KeyPair:
        """A new key pair from 32 random bytes."""
        return self.keypair_from_private(os.urandom(32))

    def keypair_from_private(self, private_key: bytes) -> KeyPair:
        """Derive the public key from a 32-byte seed."""
        if len(private_key) != 32:
            raise CryptoError("an ed25519 private key is a 32-byte seed")
        public, _ = nacl.bindings.crypto_sign_seed_keypair(private_key)
        return KeyPair(self.name, bytes(private_key), public)

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Deterministic Ed25519 signature (64 bytes)."""
        if len(private_key) != 32:
            raise CryptoError("an ed25519 private key is a 32-byte seed")
        signed: bytes = nacl.bindings.crypto_sign(message, _expanded(bytes(private_key)))
        return signed[:64]

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Strict libsodium verification; False for any malformed key or signature."""
        if not (
            isinstance(public_key, bytes)
            and isinstance(message, bytes)
            and isinstance(signature, bytes)
        ):
            return False
        if len(public_key) != 32 or len(signature) != 64:
            return False
        try:
            nacl.bindings.crypto_sign_open(signature + message, public_key)
        except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
            return False
        return True

    def encrypt(self, key: bytes, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        """AES-256-GCM with a random 96-bit nonce: nonce || ciphertext || tag."""
        if len(key) != 32:
            raise CryptoError("an AES-256-GCM key is 32 bytes")
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)

    def decrypt(self, key: bytes, ciphertext: bytes, associated_data: bytes = b"") -> bytes:
        """Reverse ``encrypt``; raises ``CryptoError`` if the data or key is wrong."""
        if len(key) != 32:
            raise CryptoError("an AES-256-GCM key is 32 bytes")
        if len(ciphertext) < _NONCE + 16:
            raise CryptoError("ciphertext too short")
        try:
            return AESGCM(key).decrypt(ciphertext[:_NONCE], ciphertext[_NONCE:], associated_data)
        except InvalidTag:
            raise CryptoError("decryption failed: wrong key or tampered data") from None


ED25519 = Ed25519Suite()
