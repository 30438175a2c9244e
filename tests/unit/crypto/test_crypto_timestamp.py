"""The RFC 3161 token builder: openssl verifies SHA-256 and SM3 tokens; certificates
and requests that do not fit are refused with clear errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from xinlian.crypto.timestamp import (
    TimeStampError,
    issue_tsa_cert,
    load_tsa,
    make_tsa_ca,
    parse_request,
    read_token,
    rejection,
    serial_number,
    stamp,
    verify_token,
    write_pem_certs,
    write_pem_key,
)

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
DATA = b"enforcement record 7\n" * 100


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca = make_tsa_ca("Test TSA CA")
    key, cert = issue_tsa_cert(ca_key, ca, "test TSA")
    write_pem_certs(d / "ca.pem", ca)
    write_pem_certs(d / "tsa.pem", cert)
    write_pem_key(d / "tsa.key", key)
    write_pem_key(d / "ca.key", ca_key)
    (d / "data.bin").write_bytes(DATA)
    return d


def _ts(*args: str | Path) -> str:
    done = subprocess.run(
        ["openssl", "ts", *map(str, args)], capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


def _verify(pki: Path, data: Path, token: Path) -> str:
    return _ts(
        "-verify", "-data", data, "-in", token, "-CAfile", pki / "ca.pem",
        "-untrusted", pki / "tsa.pem",
    )  # fmt: skip


@needs_openssl
@pytest.mark.parametrize("hash_name", ["sha256", "sm3"])
def test_openssl_verifies_tokens(pki: Path, tmp_path: Path, hash_name: str) -> None:
    tsa = load_tsa(pki / "tsa.pem", pki / "tsa.key", pki / "ca.pem")
    digest = hashlib.new(hash_name, DATA).digest()
    token = tmp_path / "t.tsr"
    token.write_bytes(
        stamp(
            tsa,
            hash_name=hash_name,
            digest=digest,
            time_ms=1_700_000_000_123,
            serial=serial_number(digest),
            nonce=99,
        )
    )
    assert "Verification: OK" in _verify(pki, pki / "data.bin", token)
    text = _ts("-reply", "-in", token, "-text")
    assert f"Hash Algorithm: {hash_name}" in text
    assert "Time stamp: Nov 14 22:13:20.123 2023 GMT" in text and "Nonce: 0x63" in text
    bad = tmp_path / "bad.bin"
    bad.write_bytes(DATA + b"!")
    assert "Verification: FAILED" in _verify(pki, bad, token)
    # A flipped byte in the signed content breaks the signature.
    raw = bytearray(token.read_bytes())
    i = raw.find(digest)
    raw[i + 5] ^= 1
    token.write_bytes(bytes(raw))
    assert "Verification: FAILED" in _verify(pki, pki / "data.bin", token)


@needs_openssl
def test_rsa_tsa_key_works(pki: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    ca_key = load_pem_private_key((pki / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    key = rsa.generate_private_key(65537, 2048)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "rsa tsa")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_pem_certs(tmp_path / "tsa.pem", cert)
    write_pem_key(tmp_path / "tsa.key", key)
    tsa = load_tsa(tmp_path / "tsa.pem", tmp_path / "tsa.key", pki / "ca.pem")
    token = tmp_path / "t.tsr"
    digest = hashlib.sha256(DATA).digest()
    token.write_bytes(stamp(tsa, hash_name="sha256", digest=digest, time_ms=1, serial=1))
    out = _ts("-verify", "-data", pki / "data.bin", "-in", token, "-CAfile", pki / "ca.pem")
    assert "Verification: OK" in out


def test_load_tsa_refusals(pki: Path, tmp_path: Path) -> None:
    with pytest.raises(TimeStampError, match="cannot load"):
        load_tsa(tmp_path / "missing.pem", pki / "tsa.key", pki / "ca.pem")
    # The CA certificate has no timeStamping extended key usage.
    with pytest.raises(TimeStampError, match="timeStamping"):
        load_tsa(pki / "ca.pem", pki / "ca.key", pki / "ca.pem")
    with pytest.raises(TimeStampError, match="is not the key of the certificate"):
        load_tsa(pki / "tsa.pem", pki / "ca.key", pki / "ca.pem")


@needs_openssl
def test_parse_request_from_openssl(pki: Path, tmp_path: Path) -> None:
    q = tmp_path / "q.tsq"
    _ts("-query", "-data", pki / "data.bin", "-sha256", "-cert", "-out", q)
    req = parse_request(q.read_bytes())
    assert req.hash_name == "sha256" and req.digest == hashlib.sha256(DATA).digest()
    assert req.cert_req and req.nonce is not None and req.policy is None
    _ts("-query", "-data", pki / "data.bin", "-sha512", "-no_nonce", "-out", q)
    with pytest.raises(TimeStampError) as info:
        parse_request(q.read_bytes())
    assert info.value.fail_info == "bad_alg"


@pytest.mark.parametrize("junk", [b"", b"\x30\x00", b"\xff" * 10, b"\x30\x82\xff\xff", b"0" * 5000])
def test_parse_request_junk(junk: bytes) -> None:
    with pytest.raises(TimeStampError):
        parse_request(junk)


def test_stamp_checks_its_input(pki: Path) -> None:
    tsa = load_tsa(pki / "tsa.pem", pki / "tsa.key", pki / "ca.pem")
    with pytest.raises(TimeStampError, match="unsupported hash"):
        stamp(tsa, hash_name="md5", digest=b"x" * 16, time_ms=0, serial=1)
    with pytest.raises(TimeStampError, match="32 bytes"):
        stamp(tsa, hash_name="sha256", digest=b"x" * 31, time_ms=0, serial=1)
    assert serial_number(b"a") != serial_number(b"b") and serial_number(b"a") > 0
    assert rejection("no").startswith(b"\x30")


def _token(pki: Path, digest: bytes, **kw: object) -> bytes:
    tsa = load_tsa(pki / "tsa.pem", pki / "tsa.key", pki / "ca.pem")
    return stamp(
        tsa, hash_name="sha256", digest=digest, time_ms=int(dt.datetime.now(dt.UTC).timestamp())
        * 1000, serial=5, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _ca(pki: Path) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())]


def test_verify_token_offline(pki: Path) -> None:
    digest = hashlib.sha256(DATA).digest()
    token = _token(pki, digest)
    info = verify_token(token, digest, _ca(pki))
    assert info.digest == digest and info.serial == 5
    with pytest.raises(TimeStampError, match=r"^check imprint failed"):
        verify_token(token, hashlib.sha256(DATA + b"!").digest(), _ca(pki))
    # A flipped byte of the TSTInfo: the signed message digest no longer matches.
    raw = bytearray(token)
    raw[raw.find(digest) + 3] ^= 1
    with pytest.raises(TimeStampError, match=r"^check imprint failed"):
        verify_token(bytes(raw), digest, _ca(pki))
    with pytest.raises(TimeStampError, match=r"^check message digest failed"):
        verify_token(bytes(raw), bytes(raw[raw.find(digest[:3]) : raw.find(digest[:3]) + 32]),
                     _ca(pki))  # fmt: skip
    other = [make_tsa_ca("other")[1]]
    with pytest.raises(TimeStampError, match=r"^check certificate chain failed"):
        verify_token(token, digest, other)
    # Without the certificate in the token, it must be given.
    bare = _token(pki, digest, include_certs=False)
    with pytest.raises(TimeStampError, match=r"^check signing certificate failed"):
        verify_token(bare, digest, _ca(pki))
    tsa_cert = x509.load_pem_x509_certificate((pki / "tsa.pem").read_bytes())
    assert verify_token(bare, digest, _ca(pki), untrusted=[tsa_cert]).digest == digest
    with pytest.raises(TimeStampError, match=r"^check format failed"):
        verify_token(rejection("no"), digest, _ca(pki))


def test_verify_token_catches_a_bad_signature(pki: Path) -> None:
    digest = hashlib.sha256(DATA).digest()
    token = bytearray(_token(pki, digest))
    # The signature is the last field of the SignerInfo, itself the last part of the
    # token: flip a byte near the end.
    token[-10] ^= 1
    with pytest.raises(TimeStampError, match=r"^check signature failed"):
        verify_token(bytes(token), digest, _ca(pki))


def test_verify_token_needs_a_time_stamping_signer(pki: Path) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from xinlian.crypto.timestamp import TsaIdentity

    ca_key = load_pem_private_key((pki / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    ca = _ca(pki)
    # The CA itself signs a token: everything holds but the extended key usage.
    digest = hashlib.sha256(DATA).digest()
    token = stamp(TsaIdentity(ca_key, ca[0], ()), hash_name="sha256", digest=digest,
                  time_ms=int(dt.datetime.now(dt.UTC).timestamp() * 1000), serial=1)  # fmt: skip
    with pytest.raises(TimeStampError, match=r"^check extended key usage failed"):
        verify_token(token, digest, ca)


@pytest.mark.parametrize("millis", [0, 7, 40, 340, 999])
def test_gen_time_keeps_the_millisecond_whatever_its_trailing_zeros(pki: Path, millis: int) -> None:
    tsa = load_tsa(pki / "tsa.pem", pki / "tsa.key", pki / "ca.pem")
    time_ms = 1_795_925_222_000 + millis
    token = stamp(tsa, hash_name="sha256", digest=b"\x01" * 32, time_ms=time_ms, serial=9)
    assert read_token(token).gen_time_ms == time_ms
