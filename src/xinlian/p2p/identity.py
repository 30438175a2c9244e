"""A node's transport identity: an Ed25519 key and the X.509 certificate it presents.

The identity *is* the raw 32-byte Ed25519 public key. On an ``ed25519`` chain it is the
validator key from genesis; on an ``sm`` chain it is a separate Ed25519 transport key
bound to the node (see ``docs/p2p.md``).

Certificates are deterministic (Ed25519 signs deterministically and every field is
derived from the key), so the same seed always yields the same bytes:

- the **leaf** a node presents: subject ``O=xinlian node, CN=<key hex>``, issuer
  ``O=xinlian anchor, CN=<key hex>``, signed by the node's own key;
- the **anchor** for an allowed key, built locally by whoever trusts that key: subject and
  issuer ``O=xinlian anchor, CN=<key hex>``, holding that key. OpenSSL does not check a
  trust anchor's own signature, only that the leaf's signature verifies under the anchor's
  key, so a node can trust a peer knowing nothing but its public key.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.x509.oid import NameOID

from xinlian.p2p.address import PUBLIC_KEY_SIZE
from xinlian.p2p.errors import HandshakeError

_NOT_BEFORE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
_NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)
_LEAF_ORG = "xinlian node"
_ANCHOR_ORG = "xinlian anchor"


def _name(org: str, public_key: bytes) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, public_key.hex()),
        ]
    )


def leaf_certificate(
    private_key: Ed25519PrivateKey, issuer_key: bytes | None = None
) -> x509.Certificate:
    """The certificate a node presents, issued under the anchor name of its own key.

    ``issuer_key`` names a different anchor; only tests use it, to forge a certificate
    that claims another node's anchor.
    """
    public = private_key.public_key().public_bytes_raw()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(_LEAF_ORG, public))
        .issuer_name(_name(_ANCHOR_ORG, issuer_key or public))
        .public_key(private_key.public_key())
        .serial_number(1)
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private_key, None)
    )


def anchor_certificate(public_key: bytes, signer: Ed25519PrivateKey) -> x509.Certificate:
    """A local trust anchor for ``public_key``; ``signer``'s signature is never checked."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise HandshakeError("an allowed peer key is a raw 32-byte Ed25519 key")
    name = _name(_ANCHOR_ORG, public_key)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(Ed25519PublicKey.from_public_bytes(public_key))
        .serial_number(1)
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(signer, None)
    )


def certificate_public_key(der: bytes) -> bytes:
    """The raw Ed25519 public key in a DER certificate.

    Raises:
        HandshakeError: the bytes are not a certificate or its key is not Ed25519.
    """
    try:
        key = x509.load_der_x509_certificate(der).public_key()
    except ValueError as exc:
        raise HandshakeError(f"unreadable peer certificate: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise HandshakeError(f"peer certificate key is {type(key).__name__}, not Ed25519")
    return key.public_bytes_raw()


@dataclass(frozen=True, slots=True)
class TransportIdentity:
    """A node's Ed25519 transport key and its certificate."""

    private_key: Ed25519PrivateKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)

    def __post_init__(self) -> None:
        cert_key = self.certificate.public_key()
        if not (
            isinstance(cert_key, Ed25519PublicKey)
            and cert_key.public_bytes_raw() == self.public_key
        ):
            raise HandshakeError("the certificate does not hold this identity's public key")

    @classmethod
    def from_seed(cls, seed: bytes) -> TransportIdentity:
        """The identity of a 32-byte Ed25519 seed (the ``ed25519`` suite's private key)."""
        if len(seed) != PUBLIC_KEY_SIZE:
            raise HandshakeError("an Ed25519 transport key is a 32-byte seed")
        private_key = Ed25519PrivateKey.from_private_bytes(seed)
        return cls(private_key, leaf_certificate(private_key))

    @classmethod
    def generate(cls) -> TransportIdentity:
        """A fresh random identity."""
        return cls.from_seed(os.urandom(PUBLIC_KEY_SIZE))

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key: what peers pin."""
        return self.private_key.public_key().public_bytes_raw()
