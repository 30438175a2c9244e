"""TLS 1.3 contexts that pin peers by their Ed25519 key, and the post-handshake check.

Both sides require a certificate (mutual TLS). The trust store holds one locally built
anchor per allowed key (see :mod:`xinlian.p2p.identity`), so OpenSSL itself rejects a peer
whose key is not allowed or whose certificate is not signed by the key it claims. Hostname
checks are off: the key is the identity. After the handshake :func:`peer_key` reads the
key back from the certificate, and the transport checks it against the allowed set again
(the set may have changed during the handshake) and against the key expected at the dialed
address.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from collections.abc import Iterable

from cryptography.hazmat.primitives import serialization

from xinlian.p2p.errors import HandshakeError
from xinlian.p2p.identity import TransportIdentity, anchor_certificate, certificate_public_key


def build_context(
    identity: TransportIdentity, allowed_keys: Iterable[bytes], *, server_side: bool
) -> ssl.SSLContext:
    """A TLS 1.3-only context presenting ``identity`` and trusting only ``allowed_keys``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    _load_identity(context, identity)
    anchors = b"".join(
        anchor_certificate(key, identity.private_key).public_bytes(serialization.Encoding.DER)
        for key in sorted(allowed_keys)
    )
    if anchors:
        context.load_verify_locations(cadata=anchors)
    return context


def _load_identity(context: ssl.SSLContext, identity: TransportIdentity) -> None:
    """Load the key and certificate (``ssl`` only reads files: a private temp directory)."""
    key_pem = identity.private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = identity.certificate.public_bytes(serialization.Encoding.PEM)
    with tempfile.TemporaryDirectory(prefix="xinlian-tls-") as directory:
        key_path = os.path.join(directory, "key.pem")
        cert_path = os.path.join(directory, "cert.pem")
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem)
        with open(cert_path, "wb") as handle:
            handle.write(cert_pem)
        try:
            context.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as exc:
            raise HandshakeError(f"cannot load the transport identity: {exc}") from None


def peer_key(ssl_object: object) -> bytes:
    """The raw Ed25519 key of the certificate the peer presented on ``ssl_object``.

    Raises:
        HandshakeError: there is no TLS session or no peer certificate.
    """
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        raise HandshakeError("the connection is not TLS")
    der = ssl_object.getpeercert(binary_form=True)
    if der is None:
        raise HandshakeError("the peer presented no certificate")
    return certificate_public_key(der)
