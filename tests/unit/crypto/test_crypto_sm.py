"""The ``sm`` suite: published SM2/SM3/SM4 vectors, OpenSSL CLI interop, malformed input."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.crypto import _openssl, get_suite
from xinlian.crypto.sm import (
    DEFAULT_ID,
    SM,
    N,
    P,
    SMSuite,
    public_key_to_der,
    public_key_to_pem,
    signature_from_der,
    signature_to_der,
    sm3,
    sm4_ecb_encrypt_block,
)
from xinlian.crypto.suite import CryptoError

OPENSSL = shutil.which("openssl")
needs_openssl_cli = pytest.mark.skipif(OPENSSL is None, reason="no openssl command")

# ---------------------------------------------------------------------------------------
# A tiny, slow, obviously-written reference SM2 (GB/T 32918) used only to check vectors.
# ---------------------------------------------------------------------------------------

REF_A = P - 3
REF_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
REF_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
REF_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
Point = tuple[int, int] | None


def ref_add(p1: Point, p2: Point) -> Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2 and (y1 + y2) % P == 0:
        return None
    if p1 == p2:
        lam = (3 * x1 * x1 + REF_A) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def ref_mul(k: int, point: Point) -> Point:
    result: Point = None
    while k:
        if k & 1:
            result = ref_add(result, point)
        point = ref_add(point, point)
        k >>= 1
    return result


def ref_z(ident: bytes, px: int, py: int) -> bytes:
    fields = [REF_A, REF_B, REF_GX, REF_GY, px, py]
    data = (len(ident) * 8).to_bytes(2, "big") + ident
    data += b"".join(v.to_bytes(32, "big") for v in fields)
    return sm3(data)


def ref_sign(d: int, ident: bytes, message: bytes, k: int) -> tuple[int, int]:
    pub = ref_mul(d, (REF_GX, REF_GY))
    assert pub is not None
    e = int.from_bytes(sm3(ref_z(ident, *pub) + message), "big")
    kg = ref_mul(k, (REF_GX, REF_GY))
    assert kg is not None
    r = (e + kg[0]) % N
    s = pow(1 + d, -1, N) * (k - r * d) % N
    return r, s


def ref_verify(pub: tuple[int, int], ident: bytes, message: bytes, r: int, s: int) -> bool:
    if not (0 < r < N and 0 < s < N):
        return False
    e = int.from_bytes(sm3(ref_z(ident, *pub) + message), "big")
    t = (r + s) % N
    if t == 0:
        return False
    pt = ref_add(ref_mul(s, (REF_GX, REF_GY)), ref_mul(t, pub))
    return pt is not None and (e + pt[0]) % N == r


# GB/T 32918.5-2017 (GM/T 0003.5-2012) Annex A signature example on the recommended curve.
# It uses the default ID 1234567812345678 (the same values are in OpenSSL's
# test/sm2_internal_test.c); the ALICE123@YAHOO.COM example of GB/T 32918.2 is on a
# different test curve.
VEC_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
VEC_PX = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
VEC_PY = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13
VEC_MSG = b"message digest"
VEC_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
VEC_Z = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
VEC_E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
VEC_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
VEC_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
ALICE_ID = bytes.fromhex("414C494345313233405941484F4F2E434F4D")  # "ALICE123@YAHOO.COM"
VEC_PUB = b"\x04" + VEC_PX.to_bytes(32, "big") + VEC_PY.to_bytes(32, "big")
VEC_SIG = VEC_R.to_bytes(32, "big") + VEC_S.to_bytes(32, "big")


KP = SM.generate()


def rs(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, bytes]:
    kp = SM.generate()
    return kp.private_key, kp.public_key


# --- suite shape ------------------------------------------------------------------------


def test_suite_attributes() -> None:
    assert get_suite("sm") is SM
    assert (SM.name, SM.hash_name, SM.public_key_size, SM.signature_size) == ("sm", "sm3", 65, 64)
    assert _openssl.version() >= 0x30000000


# --- SM3 ----------------------------------------------------------------------------------


def test_sm3_published_vectors() -> None:
    assert SM.hash(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert SM.hash(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )
    assert sm3(b"abc") == SM.hash(b"abc")


def test_sm3_copy_of_shared_object_is_stateless() -> None:
    first = SM.hash(b"a")
    SM.hash(b"b" * 1000)
    assert SM.hash(b"a") == first
    assert len(SM.hash(b"")) == 32


@needs_openssl_cli
@settings(max_examples=15, deadline=None)
@given(st.binary(min_size=0, max_size=3000))
def test_sm3_matches_openssl_dgst(data: bytes) -> None:
    assert OPENSSL is not None
    out = subprocess.run(
        [OPENSSL, "dgst", "-sm3", "-r"], input=data, capture_output=True, check=True
    ).stdout
    assert out.split()[0].decode() == SM.hash(data).hex()


# --- SM4 ------------------------------------------------------------------------------------


def test_sm4_ecb_published_vector() -> None:
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    assert sm4_ecb_encrypt_block(key, key).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_ecb_rejects_wrong_sizes() -> None:
    with pytest.raises(CryptoError):
        sm4_ecb_encrypt_block(b"k" * 15, b"b" * 16)
    with pytest.raises(CryptoError):
        sm4_ecb_encrypt_block(b"k" * 16, b"b" * 17)


def test_sm4_gcm_rfc8998_vector() -> None:
    """RFC 8998 appendix A.1: SM4-GCM decrypts the published ciphertext and tag."""
    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    ciphertext = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    tag = bytes.fromhex("83DE3541E4C2B58177E065A9BF7B62EC")
    assert SM.decrypt(key, nonce + ciphertext + tag, aad) == plaintext
    with pytest.raises(CryptoError):
        SM.decrypt(key, nonce + ciphertext + tag, aad[:-1])


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=2000), st.binary(max_size=64), st.binary(min_size=16, max_size=16))
def test_sm4_gcm_round_trip(plaintext: bytes, aad: bytes, key: bytes) -> None:
    sealed = SM.encrypt(key, plaintext, aad)
    assert len(sealed) == 12 + len(plaintext) + 16
    assert SM.decrypt(key, sealed, aad) == plaintext


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.data())
def test_sm4_gcm_tamper_raises(plaintext: bytes, data: st.DataObject) -> None:
    key = bytes(range(16))
    sealed = bytearray(SM.encrypt(key, plaintext, b"ad"))
    i = data.draw(st.integers(0, len(sealed) - 1))
    sealed[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(CryptoError):
        SM.decrypt(key, bytes(sealed), b"ad")


def test_sm4_gcm_errors() -> None:
    key = b"k" * 16
    sealed = SM.encrypt(key, b"hello")
    assert SM.encrypt(key, b"hello") != sealed  # fresh nonce
    with pytest.raises(CryptoError):
        SM.decrypt(b"x" * 16, sealed)
    with pytest.raises(CryptoError):
        SM.decrypt(key, sealed, b"other ad")
    with pytest.raises(CryptoError):
        SM.decrypt(key, sealed[:27])
    for bad in (b"", b"k" * 15, b"k" * 17, b"k" * 32):
        with pytest.raises(CryptoError):
            SM.encrypt(bad, b"x")
        with pytest.raises(CryptoError):
            SM.decrypt(bad, sealed)


# --- SM2: the published example -----------------------------------------------------------


def test_reference_curve_is_consistent() -> None:
    assert (REF_GY**2 - REF_GX**3 - REF_A * REF_GX - REF_B) % P == 0
    assert ref_mul(N, (REF_GX, REF_GY)) is None


def test_sm2_standard_public_key_derivation() -> None:
    assert ref_mul(VEC_D, (REF_GX, REF_GY)) == (VEC_PX, VEC_PY)
    kp = SM.keypair_from_private(VEC_D.to_bytes(32, "big"))
    assert kp.public_key == VEC_PUB
    assert kp.suite == "sm"


def test_sm2_standard_signature_vector() -> None:
    """Annex A example: Z, e and (r, s) from the reference signer; our verifier accepts."""
    z = ref_z(DEFAULT_ID, VEC_PX, VEC_PY)
    assert z.hex() == VEC_Z
    assert sm3(z + VEC_MSG).hex() == VEC_E
    assert ref_sign(VEC_D, DEFAULT_ID, VEC_MSG, VEC_K) == (VEC_R, VEC_S)
    assert SM.verify(VEC_PUB, VEC_MSG, VEC_SIG)
    assert SM.verify_with_id(VEC_PUB, VEC_MSG, VEC_SIG, DEFAULT_ID)
    assert not SM.verify_with_id(VEC_PUB, VEC_MSG, VEC_SIG, ALICE_ID)
    assert not SM.verify_with_id(VEC_PUB, VEC_MSG, VEC_SIG, b"")
    assert not SM.verify(VEC_PUB, b"message digesT", VEC_SIG)
    assert not SM.verify(VEC_PUB, VEC_MSG, rs(VEC_R, VEC_S ^ 1))
    assert not SM.verify(VEC_PUB, VEC_MSG, rs(VEC_R ^ 1, VEC_S))


def test_sm2_non_default_id_with_fixed_k() -> None:
    """Reference signature under ALICE123@YAHOO.COM verifies only under that ID."""
    sig = rs(*ref_sign(VEC_D, ALICE_ID, VEC_MSG, VEC_K))
    assert sig != VEC_SIG
    assert sig[:32] != VEC_SIG[:32]
    assert SM.verify_with_id(VEC_PUB, VEC_MSG, sig, ALICE_ID)
    assert not SM.verify(VEC_PUB, VEC_MSG, sig)


def test_sm2_our_signatures_pass_the_reference_verifier(keypair: tuple[bytes, bytes]) -> None:
    priv, pub = keypair
    point = (int.from_bytes(pub[1:33], "big"), int.from_bytes(pub[33:], "big"))
    assert ref_mul(int.from_bytes(priv, "big"), (REF_GX, REF_GY)) == point
    for ident in (DEFAULT_ID, ALICE_ID, b""):
        sig = SM.sign_with_id(priv, b"interop", ident)
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        assert ref_verify(point, ident, b"interop", r, s)
    assert ref_verify(point, DEFAULT_ID, b"m", *_split(SM.sign(priv, b"m")))


def _split(sig: bytes) -> tuple[int, int]:
    return int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")


def test_sm2_reference_signature_with_default_id_verifies() -> None:
    d, k = 0x1234567, 0x7654321ABCDEF
    px, py = ref_mul(d, (REF_GX, REF_GY)) or (0, 0)
    pub = b"\x04" + px.to_bytes(32, "big") + py.to_bytes(32, "big")
    assert SM.keypair_from_private(d.to_bytes(32, "big")).public_key == pub
    sig = rs(*ref_sign(d, DEFAULT_ID, b"hello", k))
    assert SM.verify(pub, b"hello", sig)
    assert not SM.verify_with_id(pub, b"hello", sig, b"1234567812345679")


# --- SM2: behaviour -------------------------------------------------------------------------


def test_sign_verify_round_trip(keypair: tuple[bytes, bytes]) -> None:
    priv, pub = keypair
    msg = os.urandom(200)
    sig1, sig2 = SM.sign(priv, msg), SM.sign(priv, msg)
    assert len(sig1) == len(sig2) == 64
    assert sig1 != sig2  # randomised k
    assert SM.verify(pub, msg, sig1)
    assert SM.verify(pub, msg, sig2)
    assert SM.verify(pub, b"", SM.sign(priv, b""))


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=300), st.data())
def test_tampered_message_or_signature_fails(msg: bytes, data: st.DataObject) -> None:
    priv, pub = KP.private_key, KP.public_key
    sig = SM.sign(priv, msg)
    assert SM.verify(pub, msg, sig)
    bad_sig = bytearray(sig)
    bad_sig[data.draw(st.integers(0, 63))] ^= data.draw(st.integers(1, 255))
    assert not SM.verify(pub, msg, bytes(bad_sig))
    bad_msg = msg + data.draw(st.binary(min_size=1, max_size=3))
    assert not SM.verify(pub, bad_msg, sig)


def test_wrong_key_and_wrong_id_fail(keypair: tuple[bytes, bytes]) -> None:
    priv, pub = keypair
    sig = SM.sign(priv, b"msg")
    assert not SM.verify(SM.generate().public_key, b"msg", sig)
    assert not SM.verify_with_id(pub, b"msg", sig, b"")
    assert not SM.verify_with_id(pub, b"msg", sig, b"1234567812345678\x00")
    assert SM.verify_with_id(pub, b"msg", sig, DEFAULT_ID)
    other = SM.sign_with_id(priv, b"msg", b"ALICE")
    assert not SM.verify(pub, b"msg", other)
    assert SM.verify_with_id(pub, b"msg", other, b"ALICE")


def test_malformed_public_keys_return_false(keypair: tuple[bytes, bytes]) -> None:
    priv, pub = keypair
    sig = SM.sign(priv, b"m")
    y = int.from_bytes(pub[33:], "big")
    bad_keys = [
        b"",
        pub[:64],
        pub + b"\x00",
        pub[1:],  # raw X || Y without the prefix
        b"\x02" + pub[1:33],  # compressed forms are not the suite encoding
        b"\x02" + pub[1:],
        b"\x03" + pub[1:],
        b"\x06" + pub[1:],  # hybrid form
        b"\x04" + bytes(64),  # (0, 0) is not on the curve
        b"\x04" + pub[1:33] + ((y + 1) % P).to_bytes(32, "big"),  # off the curve
        b"\x04" + b"\xff" * 64,
    ]
    for bad in bad_keys:
        assert SM.verify(bad, b"m", sig) is False, bad.hex()
    # a point with a small x also has a non-reduced encoding x + p that must be refused
    small_x, small_y = _point_with_small_x()
    good_small = b"\x04" + small_x.to_bytes(32, "big") + small_y.to_bytes(32, "big")
    assert SM._public_key(good_small) is not None
    assert (
        SM.verify(b"\x04" + (small_x + P).to_bytes(32, "big") + good_small[33:], b"m", sig) is False
    )
    # the negated point is on the curve, a valid key, but not the signer
    neg = b"\x04" + pub[1:33] + (P - y).to_bytes(32, "big")
    assert SM.verify(neg, b"m", sig) is False
    assert SM.verify(pub, b"m", sig) is True


def _point_with_small_x() -> tuple[int, int]:
    for x in range(1000):
        rhs = (x**3 + REF_A * x + REF_B) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            return x, y
    raise AssertionError("no point found")


def test_out_of_range_signatures_return_false(keypair: tuple[bytes, bytes]) -> None:
    priv, pub = keypair
    sig = SM.sign(priv, b"m")
    r, s = _split(sig)
    for bad in [
        rs(0, s),
        rs(r, 0),
        rs(N, s),
        rs(r, N),
        rs(r + N, s) if r + N < 2**256 else rs(2**256 - 1, s),
        rs(r, s + N) if s + N < 2**256 else rs(r, 2**256 - 1),
        rs(r, (N - r) % N or 1),  # r + s == n is rejected by the standard
        rs(N - r, s),
        b"\xff" * 64,
        bytes(64),
        sig[:63],
        sig + b"\x00",
        b"",
        signature_to_der(sig),  # DER is not the suite encoding
    ]:
        assert SM.verify(pub, b"m", bad) is False
    assert not _openssl.pending_errors()


def test_non_bytes_inputs_return_false(keypair: tuple[bytes, bytes]) -> None:
    priv, pub = keypair
    sig = SM.sign(priv, b"m")
    assert SM.verify(None, b"m", sig) is False  # type: ignore[arg-type]
    assert SM.verify(pub, b"m", None) is False  # type: ignore[arg-type]
    assert SM.verify(pub, None, sig) is False  # type: ignore[arg-type]
    assert SM.verify(pub.hex(), b"m", sig) is False  # type: ignore[arg-type]
    assert SM.verify(bytearray(pub), b"m", bytearray(sig)) is True  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=100), st.binary(max_size=100), st.binary(max_size=100))
def test_random_garbage_returns_false(pub: bytes, msg: bytes, sig: bytes) -> None:
    assert SM.verify(pub, msg, sig) is False


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=64, max_size=64), st.binary(min_size=64, max_size=64))
def test_random_well_sized_garbage_returns_false(point: bytes, sig: bytes) -> None:
    assert SM.verify(b"\x04" + point, b"msg", sig) is False
    assert SM.verify(KP.public_key, b"msg", sig) is False


def test_private_key_validation() -> None:
    for bad in (b"", b"\x01" * 31, b"\x01" * 33, bytes(32), (N - 1).to_bytes(32, "big")):
        with pytest.raises(CryptoError):
            SM.keypair_from_private(bad)
        with pytest.raises(CryptoError):
            SM.sign(bad, b"m")
    for bad_scalar in (N, N + 1, 2**256 - 1):
        with pytest.raises(CryptoError):
            SM.keypair_from_private(bad_scalar.to_bytes(32, "big"))
    assert SM.keypair_from_private((1).to_bytes(32, "big")).public_key == (
        b"\x04" + REF_GX.to_bytes(32, "big") + REF_GY.to_bytes(32, "big")
    )
    top = SM.keypair_from_private((N - 2).to_bytes(32, "big"))
    assert SM.verify(top.public_key, b"m", SM.sign(top.private_key, b"m"))


def test_keypair_from_private_round_trip() -> None:
    kp = SM.generate()
    assert len(kp.private_key) == 32
    assert len(kp.public_key) == 65
    assert kp.public_key[0] == 4
    assert SM.keypair_from_private(kp.private_key) == kp
    assert SM.generate().private_key != kp.private_key


# --- DER helpers ----------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.integers(1, N - 1), st.integers(1, N - 1))
def test_der_round_trip(r: int, s: int) -> None:
    der = signature_to_der(rs(r, s))
    assert der[0] == 0x30
    assert len(der) <= 72
    assert signature_from_der(der) == rs(r, s)


def test_der_known_encoding_and_rejects() -> None:
    assert signature_to_der(rs(1, 0x80)).hex() == "3007020101020200" + "80"
    good = signature_to_der(rs(5, 7))
    for bad in [
        b"",
        good[:-1],
        good + b"\x00",
        b"\x31" + good[1:],
        bytes.fromhex("3007020200050201" + "07"),  # non-minimal r
        bytes.fromhex("3006020181020107"),  # negative r
        bytes.fromhex("3006020100020107"),  # r = 0
        bytes.fromhex("3006020105020100"),  # s = 0
        bytes.fromhex("3005020105020107"),  # wrong SEQUENCE length
    ]:
        with pytest.raises(CryptoError):
            signature_from_der(bad)
    n_der = b"\x02\x21\x00" + N.to_bytes(32, "big")
    with pytest.raises(CryptoError):
        signature_from_der(b"\x30" + bytes([len(n_der) + 3]) + n_der + b"\x02\x01\x01")
    with pytest.raises(CryptoError):
        signature_to_der(b"\x00" * 63)


def test_public_key_der_and_pem(keypair: tuple[bytes, bytes]) -> None:
    _, pub = keypair
    der = public_key_to_der(pub)
    assert der.endswith(pub)
    assert len(der) == 91
    assert bytes.fromhex("06082a811ccf5501822d") in der  # SM2 curve OID
    pem = public_key_to_pem(pub)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    with pytest.raises(CryptoError):
        public_key_to_der(b"\x04" + bytes(64))


# --- concurrency and resource hygiene --------------------------------------------------------


def test_concurrent_verification_with_evicting_cache() -> None:
    suite = SMSuite(public_cache=2, private_cache=2)
    keys = [suite.generate() for _ in range(6)]
    work = []
    for i, kp in enumerate(keys):
        msg = f"message {i}".encode()
        sig = suite.sign(kp.private_key, msg)
        work.append((kp.public_key, msg, sig, True))
        work.append((kp.public_key, msg + b"!", sig, False))
    failures: list[int] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        pub, msg, sig, expected = work[i % len(work)]
        if suite.verify(pub, msg, sig) is not expected:
            with lock:
                failures.append(i)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(run, range(120)))
    assert failures == []
    assert len(suite._public) <= 2


def test_error_queue_is_left_empty(keypair: tuple[bytes, bytes]) -> None:
    priv, pub = keypair
    sig = SM.sign(priv, b"m")
    assert not SM.verify(pub, b"x", sig)
    assert not _openssl.pending_errors()
    assert _openssl.load_sm2_public(b"\x04" + bytes(64)) is None
    assert not _openssl.pending_errors()
    assert _openssl.load_sm2_public(b"\x04" + b"\x01" * 64) is None
    assert not _openssl.pending_errors()


# --- interop with the openssl command ---------------------------------------------------------


def _run(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *args], input=data, capture_output=True, check=False)


@needs_openssl_cli
def test_xinlian_signature_verifies_with_openssl(tmp_path: Path) -> None:
    kp = SM.generate()
    msg = os.urandom(200)
    (tmp_path / "pub.pem").write_text(public_key_to_pem(kp.public_key))
    (tmp_path / "msg").write_bytes(msg)
    (tmp_path / "bad").write_bytes(msg + b"x")
    (tmp_path / "sig.der").write_bytes(signature_to_der(SM.sign(kp.private_key, msg)))
    common = ["-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin", "-digest", "sm3"]
    common += ["-sigfile", str(tmp_path / "sig.der")]
    distid = ["-pkeyopt", "distid:1234567812345678"]
    ok = _run("pkeyutl", "-verify", *common, *distid, "-in", str(tmp_path / "msg"))
    assert ok.returncode == 0, ok.stderr.decode()
    assert b"Signature Verified Successfully" in ok.stdout
    tampered = _run("pkeyutl", "-verify", *common, *distid, "-in", str(tmp_path / "bad"))
    assert tampered.returncode != 0
    other_id = ["-pkeyopt", "distid:1234567812345679"]
    wrong_id = _run("pkeyutl", "-verify", *common, *other_id, "-in", str(tmp_path / "msg"))
    assert wrong_id.returncode != 0
    text = _run("pkey", "-pubin", "-in", str(tmp_path / "pub.pem"), "-text", "-noout")
    assert text.returncode == 0
    assert b"SM2" in text.stdout


def _hex_field(text: str, name: str) -> bytes:
    m = re.search(rf"^{name}:\n((?:\s+[0-9a-f:]+\n)+)", text, re.MULTILINE)
    assert m, text
    return bytes.fromhex(re.sub(r"[\s:]", "", m.group(1)))


@needs_openssl_cli
def test_openssl_key_and_signature_verify_in_xinlian(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    assert _run("genpkey", "-algorithm", "SM2", "-out", str(key)).returncode == 0
    text = _run("pkey", "-in", str(key), "-text", "-noout")
    assert text.returncode == 0
    priv = int.from_bytes(_hex_field(text.stdout.decode(), "priv"), "big").to_bytes(32, "big")
    pub = _hex_field(text.stdout.decode(), "pub")
    assert SM.keypair_from_private(priv).public_key == pub
    pub_der = _run("pkey", "-in", str(key), "-pubout", "-outform", "DER").stdout
    assert pub_der == public_key_to_der(pub)

    msg = os.urandom(200)
    (tmp_path / "msg").write_bytes(msg)
    sign = ["pkeyutl", "-sign", "-inkey", str(key), "-rawin", "-digest", "sm3"]
    sign += ["-in", str(tmp_path / "msg"), "-out"]
    done = _run(*sign, str(tmp_path / "sig.der"), "-pkeyopt", "distid:1234567812345678")
    assert done.returncode == 0, done.stderr.decode()
    sig = signature_from_der((tmp_path / "sig.der").read_bytes())
    assert SM.verify(pub, msg, sig)
    assert not SM.verify(pub, msg + b"x", sig)

    # Without distid OpenSSL uses an empty ID: such a signature must not pass as ours.
    done = _run(*sign, str(tmp_path / "noid.der"))
    assert done.returncode == 0, done.stderr.decode()
    noid = signature_from_der((tmp_path / "noid.der").read_bytes())
    assert not SM.verify(pub, msg, noid)
    assert SM.verify_with_id(pub, msg, noid, b"")
