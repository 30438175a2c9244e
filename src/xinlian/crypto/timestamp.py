"""RFC 3161 time-stamp tokens: a node's time-stamping authority (TSA).

A token is a CMS ``SignedData`` (RFC 5652) whose content is a ``TSTInfo``: the hash of
the stamped data (*message imprint*), the time (*genTime*), a serial number and the TSA's
policy. It is signed by a certificate whose only extended key usage is
``timeStamping`` (critical), and carries a ``signingCertificateV2`` attribute (RFC 5035)
binding the signature to that certificate, so standard tools verify it::

    openssl ts -verify -data FILE -in token.tsr -CAfile ca.pem -untrusted tsa.pem

Xinlian stamps only digests that are final on chain, with the time of the block that
anchored them (see ``xinlian.api.evidence``); this module only builds and parses the DER.
The TSA key is an ECDSA P-256 (or operator-supplied RSA / ECDSA) X.509 key, independent of
the chain's suite; the message imprint uses the chain's hash (SHA-256 or SM3).

:func:`make_tsa_ca` and :func:`issue_tsa_cert` create a development CA and TSA
certificate; :func:`load_tsa` reads PEM files and checks they fit together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import algos, cms, core, tsp, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from xinlian.crypto.suite import CryptoError

__all__ = [
    "HASH_OIDS",
    "POLICY_OID",
    "TOKEN_CHECKS",
    "ResponseStatus",
    "TimeStampError",
    "TimeStampRequest",
    "TokenInfo",
    "TsaIdentity",
    "issue_tsa_cert",
    "load_tsa",
    "make_request",
    "make_tsa_ca",
    "parse_request",
    "read_token",
    "rejection",
    "response_status",
    "stamp",
    "verify_token",
    "write_pem_key",
]

#: The TSA policy under which Xinlian nodes stamp: "the digest was anchored in a final
#: block whose header time is genTime". A UUID-derived OID (ITU-T X.667, arc 2.25).
POLICY_OID = "2.25.318606632316832012635998812283245433906"
#: Message-imprint hash algorithms by ``hashlib`` name.
HASH_OIDS = {"sha256": "2.16.840.1.101.3.4.2.1", "sm3": "1.2.156.10197.1.401"}
_HASH_NAMES = {oid: name for name, oid in HASH_OIDS.items()}
_HASH_SIZES = {"sha256": 32, "sm3": 32}
#: Largest TimeStampReq accepted (a real one is under 200 bytes).
MAX_REQUEST_BYTES = 4096

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class TimeStampError(CryptoError):
    """A TSA key or certificate that cannot be used, or a malformed request.

    ``fail_info`` is the RFC 3161 ``PKIFailureInfo`` name to answer a request with.
    """

    def __init__(self, message: str, fail_info: str = "bad_request") -> None:
        super().__init__(message)
        self.fail_info = fail_info


@dataclass(frozen=True, slots=True)
class TsaIdentity:
    """A TSA's signing key, its certificate and the chain up to (and with) the root."""

    key: PrivateKey
    cert: cx509.Certificate
    chain: tuple[cx509.Certificate, ...]

    def cert_pem(self) -> bytes:
        """The TSA certificate (PEM)."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def chain_pem(self) -> bytes:
        """The issuing chain (PEM), root last: what a verifier passes as ``-CAfile``."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)


@dataclass(frozen=True, slots=True)
class TimeStampRequest:
    """The parts of an RFC 3161 ``TimeStampReq`` a TSA acts on."""

    hash_name: str
    digest: bytes
    nonce: int | None
    cert_req: bool
    policy: str | None


# KEYS AND CERTIFICATES


def _name(common_name: str, org: str) -> cx509.Name:
    return cx509.Name(
        [
            cx509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            cx509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_tsa_ca(
    common_name: str, org: str = "Xinlian consortium", *, years: int = 20
) -> tuple[ec.EllipticCurvePrivateKey, cx509.Certificate]:
    """A new self-signed CA (ECDSA P-256) that issues TSA certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = _name(common_name, org)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(cx509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            cx509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(cx509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_tsa_cert(
    ca_key: PrivateKey,
    ca_cert: cx509.Certificate,
    common_name: str,
    org: str = "Xinlian consortium",
    *,
    years: int = 10,
) -> tuple[ec.EllipticCurvePrivateKey, cx509.Certificate]:
    """A new TSA key (ECDSA P-256) and certificate issued by ``ca_cert``: digital
    signature and non-repudiation key usage, extended key usage ``timeStamping`` only,
    marked critical (RFC 3161 section 2.3)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(_name(common_name, org))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(min(now + dt.timedelta(days=365 * years), ca_cert.not_valid_after_utc))
        .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            cx509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(cx509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            cx509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def write_pem_key(path: Path, key: PrivateKey) -> None:
    """Write a private key as unencrypted PKCS#8 PEM with mode 0600 (refuses to
    overwrite)."""
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def write_pem_certs(path: Path, *certs: cx509.Certificate) -> None:
    """Write certificates as PEM."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))


def load_tsa(cert_path: Path, key_path: Path, chain_path: Path) -> TsaIdentity:
    """Read a TSA certificate, its private key and its issuing chain (PEM files).

    Raises:
        TimeStampError: a file is missing or unreadable, the key does not match the
            certificate, the key type is not RSA or ECDSA, or the certificate lacks the
            critical ``timeStamping``-only extended key usage.
    """
    try:
        certs = cx509.load_pem_x509_certificates(cert_path.read_bytes())
        chain = cx509.load_pem_x509_certificates(chain_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise TimeStampError(f"cannot load the TSA key or certificates: {exc}") from None
    cert = certs[0]
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise TimeStampError(f"{key_path}: the TSA key must be RSA or ECDSA")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        raise TimeStampError(f"{key_path} is not the key of the certificate {cert_path}")
    try:
        eku = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage)
    except cx509.ExtensionNotFound:
        eku = None
    if eku is None or not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise TimeStampError(
            f"{cert_path}: a TSA certificate needs a critical extended key usage of "
            "timeStamping only (RFC 3161 section 2.3)"
        )
    extra = tuple(c for c in certs[1:] if c not in chain)
    return TsaIdentity(key, cert, extra + tuple(chain))


# REQUESTS AND RESPONSES


class _TimeStampResp(core.Sequence):  # type: ignore[misc]
    """``TimeStampResp`` with the token optional (absent when the request is refused)."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


def parse_request(der: bytes) -> TimeStampRequest:
    """Read a DER ``TimeStampReq`` (what ``openssl ts -query`` writes).

    Raises:
        TimeStampError: not a version-1 request, or an unsupported hash algorithm
            (``fail_info`` says which RFC 3161 failure to answer with).
    """
    if len(der) > MAX_REQUEST_BYTES:
        raise TimeStampError(f"request larger than {MAX_REQUEST_BYTES} bytes", "bad_data_format")
    try:
        req = tsp.TimeStampReq.load(der, strict=True)
        version = req["version"].native
        imprint = req["message_imprint"]
        oid = imprint["hash_algorithm"]["algorithm"].dotted
        digest = imprint["hashed_message"].native
        nonce = req["nonce"].native
        cert_req = bool(req["cert_req"].native)
        policy = req["req_policy"].dotted if req["req_policy"].native is not None else None
        has_ext = req["extensions"].native is not None
    except Exception as exc:  # untrusted bytes: any parser failure is a refusal
        raise TimeStampError(f"not a DER TimeStampReq: {exc}", "bad_data_format") from None
    if version != "v1":
        raise TimeStampError(f"TimeStampReq version {version}, expected v1", "bad_request")
    if has_ext:
        raise TimeStampError("request extensions are not supported", "unaccepted_extensions")
    name = _HASH_NAMES.get(oid)
    if name is None:
        raise TimeStampError(f"unsupported message-imprint hash algorithm {oid}", "bad_alg")
    if len(digest) != _HASH_SIZES[name]:
        raise TimeStampError(f"a {name} imprint is {_HASH_SIZES[name]} bytes", "bad_data_format")
    return TimeStampRequest(name, digest, nonce, cert_req, policy)


def make_request(
    hash_name: str, digest: bytes, nonce: int | None = None, cert_req: bool = True
) -> bytes:
    """A DER ``TimeStampReq`` for ``digest`` (what ``openssl ts -query`` would write)."""
    oid = HASH_OIDS.get(hash_name)
    if oid is None or len(digest) != _HASH_SIZES[hash_name]:
        raise TimeStampError(f"not a {hash_name} digest", "bad_alg")
    req = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": oid}, "hashed_message": digest},
            "nonce": nonce,
            "cert_req": cert_req,
        }
    )
    return bytes(req.dump())


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a granted time-stamp token says (its signature is not checked here)."""

    hash_name: str
    digest: bytes
    gen_time_ms: int
    serial: int
    nonce: int | None
    policy: str
    tsa: str


def read_token(der: bytes) -> TokenInfo:
    """Read a DER ``TimeStampResp``: the TSTInfo of a granted token.

    Raises:
        TimeStampError: the response refuses (with its status text) or is malformed.
    """
    try:
        resp = _TimeStampResp.load(der, strict=True)
        status = resp["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            text = "; ".join(resp["status"]["status_string"].native or [])
            raise TimeStampError(f"the TSA refused: {status} {text}".strip())
        signed = resp["time_stamp_token"]["content"]
        tst = signed["encap_content_info"]["content"].parsed
        imprint = tst["message_imprint"]
        oid = imprint["hash_algorithm"]["algorithm"].dotted
        when = tst["gen_time"].native
        tsa = tst["tsa"]
        return TokenInfo(
            hash_name=_HASH_NAMES.get(oid, oid),
            digest=imprint["hashed_message"].native,
            gen_time_ms=round(when.timestamp() * 1000),
            serial=tst["serial_number"].native,
            nonce=tst["nonce"].native,
            policy=tst["policy"].dotted,
            tsa="" if tsa.native is None else tsa.chosen.human_friendly,
        )
    except TimeStampError:
        raise
    except Exception as exc:  # untrusted bytes: any parser failure is a malformed answer
        raise TimeStampError(f"not a DER TimeStampResp: {exc}", "bad_data_format") from None


#: The checks of :func:`verify_token`, in the order they run.
TOKEN_CHECKS = (
    "format",
    "imprint",
    "content type",
    "message digest",
    "signing certificate",
    "signature",
    "extended key usage",
    "certificate chain",
)
_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


def _tfail(check: str, detail: str) -> TimeStampError:
    return TimeStampError(f"check {check} failed: {detail}")


def verify_token(
    der: bytes,
    digest: bytes,
    trusted: list[cx509.Certificate],
    *,
    untrusted: list[cx509.Certificate] | None = None,
) -> TokenInfo:
    """Verify an RFC 3161 ``TimeStampResp`` offline, as ``openssl ts -verify`` does: the
    token stamps ``digest``; its signed attributes carry the TSTInfo's digest and the
    signer certificate's hash; the signature verifies; the signer's only extended key
    usage is ``timeStamping`` (critical); and the signer chains to a ``trusted`` root,
    each certificate valid at genTime.

    Raises:
        TimeStampError: ``check <name> failed: ...`` (one of :data:`TOKEN_CHECKS`).
    """
    try:
        info = read_token(der)
    except TimeStampError as exc:
        raise _tfail("format", str(exc)) from None
    if info.digest != digest:
        raise _tfail("imprint", f"the token stamps {info.digest.hex()}, not {digest.hex()}")
    resp = _TimeStampResp.load(der)
    signed = resp["time_stamp_token"]["content"]
    if signed["encap_content_info"]["content_type"].native != "tst_info":
        raise _tfail("content type", "the token's content is not a TSTInfo")
    infos = signed["signer_infos"]
    if len(infos) != 1:
        raise _tfail("format", f"a token has one signer, this one has {len(infos)}")
    signer = infos[0]
    attrs = {a["type"].native: a["values"] for a in signer["signed_attrs"]}
    if [v.native for v in attrs.get("content_type", [])] != ["tst_info"]:
        raise _tfail("content type", "the signed content-type attribute is not TSTInfo")
    hash_name = signer["digest_algorithm"]["algorithm"].native
    if hash_name not in _DIGESTS:
        raise _tfail("message digest", f"unsupported digest algorithm {hash_name}")
    content = signed["encap_content_info"]["content"].contents
    if [v.native for v in attrs.get("message_digest", [])] != [
        hashlib.new(hash_name, content).digest()
    ]:
        raise _tfail("message digest", "the signed digest is not the TSTInfo's")
    pool = [c.chosen for c in signed["certificates"] or []]
    pool += [
        x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in (untrusted or [])
    ]
    sid = signer["sid"].chosen
    match = [
        c
        for c in pool
        if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native
    ]
    if not match:
        raise _tfail("signing certificate", "the signer's certificate is not in the token or given")
    cert_der = match[0].dump()
    ess = attrs.get("signing_certificate_v2")
    if ess is None or hashlib.sha256(cert_der).digest() not in [
        e["cert_hash"].native for e in ess[0]["certs"]
    ]:
        raise _tfail("signing certificate", "no signingCertificateV2 attribute names the signer")
    cert = cx509.load_der_x509_certificate(cert_der)
    to_sign = b"\x31" + signer["signed_attrs"].dump()[1:]
    signature = signer["signature"].native
    public = cert.public_key()
    algorithm = _DIGESTS[hash_name]
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, to_sign, ec.ECDSA(algorithm))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, to_sign, padding.PKCS1v15(), algorithm)
        else:
            raise _tfail("signature", "the signer's key is neither RSA nor ECDSA")
    except InvalidSignature:
        raise _tfail("signature", "the signature does not verify") from None
    try:
        eku = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage)
    except cx509.ExtensionNotFound:
        eku = None
    if eku is None or not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise _tfail("extended key usage", "the signer is not a time-stamping-only certificate")
    _check_chain(cert, [cx509.load_der_x509_certificate(c.dump()) for c in pool], trusted, info)
    return info


def _check_chain(
    cert: cx509.Certificate,
    pool: list[cx509.Certificate],
    trusted: list[cx509.Certificate],
    info: TokenInfo,
) -> None:
    when = dt.datetime.fromtimestamp(info.gen_time_ms / 1000, dt.UTC)
    current = cert
    for _ in range(8):
        if not current.not_valid_before_utc <= when <= current.not_valid_after_utc:
            raise _tfail(
                "certificate chain", f"{current.subject.rfc4514_string()} is not valid at genTime"
            )
        if current in trusted:
            return
        issuers = [c for c in trusted + pool if c.subject == current.issuer and c != current]
        for issuer in issuers:
            try:
                current.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                continue
            try:
                ca = issuer.extensions.get_extension_for_class(cx509.BasicConstraints).value.ca
            except cx509.ExtensionNotFound:
                ca = False
            if not ca:
                raise _tfail("certificate chain", f"{issuer.subject.rfc4514_string()} is not a CA")
            current = issuer
            break
        else:
            raise _tfail(
                "certificate chain",
                f"{current.subject.rfc4514_string()} is not issued by a trusted certificate",
            )
    raise _tfail("certificate chain", "the chain is too long")


def rejection(text: str, fail_info: str = "bad_request") -> bytes:
    """A DER ``TimeStampResp`` refusing a request (status ``rejection``)."""
    status = tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": [text[:200]],
            "fail_info": tsp.PKIFailureInfo({fail_info}),
        }
    )
    return bytes(_TimeStampResp({"status": status}).dump())


@dataclass(frozen=True, slots=True)
class ResponseStatus:
    """The ``PKIStatusInfo`` of a ``TimeStampResp``: status name (``granted``,
    ``rejection``, ...), the PKIFailureInfo bit names and the status text."""

    status: str
    fail_info: tuple[str, ...]
    text: str


def response_status(der: bytes) -> ResponseStatus:
    """Read the status of a DER ``TimeStampResp`` (granted or not).

    Raises:
        TimeStampError: not a ``TimeStampResp``.
    """
    try:
        info = _TimeStampResp.load(der, strict=True)["status"]
        fail = info["fail_info"].native
        return ResponseStatus(
            status=str(info["status"].native),
            fail_info=tuple(sorted(fail)) if fail else (),
            text="; ".join(info["status_string"].native or []),
        )
    except Exception as exc:  # untrusted bytes: any parser failure is a malformed answer
        raise TimeStampError(f"not a DER TimeStampResp: {exc}", "bad_data_format") from None


def _gen_time(time_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(time_ms // 1000, dt.UTC).replace(
        microsecond=(time_ms % 1000) * 1000
    )


def _signature_algorithm(key: PrivateKey) -> str:
    return "sha256_ecdsa" if isinstance(key, ec.EllipticCurvePrivateKey) else "sha256_rsa"


def _sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def serial_number(*parts: bytes) -> int:
    """A positive 127-bit serial number derived from ``parts`` (unique per token when the
    parts are: the anchoring transaction, the digest and the request's nonce)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(4, "big") + part)
    return int.from_bytes(h.digest()[:16], "big") >> 1 or 1


def stamp(
    tsa: TsaIdentity,
    *,
    hash_name: str,
    digest: bytes,
    time_ms: int,
    serial: int,
    nonce: int | None = None,
    include_certs: bool = True,
) -> bytes:
    """A DER ``TimeStampResp`` (status granted) whose token stamps ``digest`` (a
    ``hash_name`` hash) at ``time_ms`` (milliseconds since the epoch, UTC).

    Raises:
        TimeStampError: an unsupported hash or a digest of the wrong size.
    """
    oid = HASH_OIDS.get(hash_name)
    if oid is None:
        raise TimeStampError(f"unsupported hash {hash_name!r}", "bad_alg")
    if len(digest) != _HASH_SIZES[hash_name]:
        raise TimeStampError(f"a {hash_name} digest is {_HASH_SIZES[hash_name]} bytes")
    cert = x509.Certificate.load(tsa.cert.public_bytes(serialization.Encoding.DER))
    tst = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": POLICY_OID,
            "message_imprint": {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": oid}),
                "hashed_message": digest,
            },
            "serial_number": serial,
            "gen_time": _gen_time(time_ms),
            "accuracy": {"millis": 1},
            "nonce": nonce,
            "tsa": x509.GeneralName(name="directory_name", value=cert.subject),
        }
    )
    content = tst.dump()
    signing_cert = tsp.SigningCertificateV2(
        {"certs": [{"cert_hash": hashlib.sha256(cert.dump()).digest()}]}
    )
    attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute(
                {"type": "message_digest", "values": [hashlib.sha256(content).digest()]}
            ),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [signing_cert]}),
        ]
    )
    signature = _sign(tsa.key, attrs.dump())
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": cert.issuer, "serial_number": cert.serial_number},
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attrs,
            "signature_algorithm": {"algorithm": _signature_algorithm(tsa.key)},
            "signature": signature,
        }
    )
    signed = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {"content_type": "tst_info", "content": tst},
        "signer_infos": [signer],
    }
    if include_certs:
        signed["certificates"] = [cert]
    token = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed)})
    return bytes(
        _TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()
    )
