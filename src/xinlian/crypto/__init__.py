"""Crypto suites and Merkle proofs.

A chain fixes one :class:`CryptoSuite` in its genesis: ``ed25519`` (Ed25519, SHA-256,
AES-256-GCM) or ``sm`` (SM2 with the default ID ``1234567812345678``, SM3, SM4-GCM).
Use :func:`get_suite` to obtain one by name.
"""

from xinlian.crypto.suite import CryptoError, CryptoSuite, KeyPair, address_of, get_suite

__all__ = ["CryptoError", "CryptoSuite", "KeyPair", "address_of", "get_suite"]
