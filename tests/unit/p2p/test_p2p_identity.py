"""Transport identities and TLS contexts."""

from __future__ import annotations

import ssl

import pytest
from cryptography.hazmat.primitives import serialization

from xinlian.crypto import get_suite
from xinlian.p2p import HandshakeError, TransportIdentity
from xinlian.p2p.identity import certificate_public_key, leaf_certificate
from xinlian.p2p.tls import build_context, peer_key


def _der(identity: TransportIdentity) -> bytes:
    return identity.certificate.public_bytes(serialization.Encoding.DER)


def test_identity_is_the_ed25519_validator_key_and_deterministic() -> None:
    pair = get_suite("ed25519").keypair_from_private(bytes(range(32)))
    identity = TransportIdentity.from_seed(pair.private_key)
    assert identity.public_key == pair.public_key
    assert _der(identity) == _der(TransportIdentity.from_seed(pair.private_key))
    assert certificate_public_key(_der(identity)) == pair.public_key


def test_a_certificate_for_another_key_is_rejected() -> None:
    a = TransportIdentity.from_seed(b"\x01" * 32)
    b = TransportIdentity.from_seed(b"\x02" * 32)
    with pytest.raises(HandshakeError):
        TransportIdentity(a.private_key, b.certificate)
    with pytest.raises(HandshakeError):
        TransportIdentity.from_seed(b"short")


def test_certificate_parsing_refuses_junk() -> None:
    with pytest.raises(HandshakeError):
        certificate_public_key(b"not a certificate")
    with pytest.raises(HandshakeError):
        peer_key(None)


def test_contexts_are_tls13_only_with_mutual_verification() -> None:
    identity = TransportIdentity.generate()
    for server_side in (True, False):
        context = build_context(identity, [identity.public_key], server_side=server_side)
        assert context.minimum_version is ssl.TLSVersion.TLSv1_3
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert not context.check_hostname
    assert build_context(identity, [], server_side=True).cert_store_stats()["x509_ca"] == 0


def test_forged_leaf_names_the_other_anchor() -> None:
    x = TransportIdentity.from_seed(b"\x03" * 32)
    a = TransportIdentity.from_seed(b"\x01" * 32)
    forged = leaf_certificate(x.private_key, a.public_key)
    assert a.public_key.hex() in forged.issuer.rfc4514_string()
    assert certificate_public_key(forged.public_bytes(serialization.Encoding.DER)) == x.public_key
