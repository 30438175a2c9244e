"""The ``ed25519`` suite: RFC 8032 vectors, SHA-256, AES-256-GCM and malformed input."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.crypto import get_suite
from xinlian.crypto.ed25519 import ED25519
from xinlian.crypto.suite import CryptoError

# RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
RFC_TESTS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]

KP = ED25519.generate()


def test_suite_attributes() -> None:
    assert get_suite("ed25519") is ED25519
    assert (ED25519.name, ED25519.hash_name) == ("ed25519", "sha256")
    assert (ED25519.public_key_size, ED25519.signature_size) == (32, 64)
    with pytest.raises(CryptoError):
        get_suite("rsa")


@pytest.mark.parametrize(("seed", "public", "message", "signature"), RFC_TESTS)
def test_rfc8032_vectors(seed: str, public: str, message: str, signature: str) -> None:
    kp = ED25519.keypair_from_private(bytes.fromhex(seed))
    assert kp.public_key.hex() == public
    assert kp.suite == "ed25519"
    msg = bytes.fromhex(message)
    assert ED25519.sign(kp.private_key, msg).hex() == signature
    assert ED25519.verify(kp.public_key, msg, bytes.fromhex(signature))


@settings(max_examples=50)
@given(st.binary(max_size=2048))
def test_hash_is_sha256(data: bytes) -> None:
    assert ED25519.hash(data) == hashlib.sha256(data).digest()


def test_hash_known_vector() -> None:
    assert ED25519.hash(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@settings(max_examples=50)
@given(st.binary(max_size=500))
def test_sign_verify_round_trip(msg: bytes) -> None:
    sig = ED25519.sign(KP.private_key, msg)
    assert len(sig) == 64
    assert ED25519.sign(KP.private_key, msg) == sig  # deterministic
    assert ED25519.verify(KP.public_key, msg, sig)


@settings(max_examples=50)
@given(st.binary(max_size=300), st.data())
def test_tampered_message_or_signature_fails(msg: bytes, data: st.DataObject) -> None:
    sig = ED25519.sign(KP.private_key, msg)
    bad_sig = bytearray(sig)
    bad_sig[data.draw(st.integers(0, 63))] ^= data.draw(st.integers(1, 255))
    assert not ED25519.verify(KP.public_key, msg, bytes(bad_sig))
    assert not ED25519.verify(KP.public_key, msg + data.draw(st.binary(min_size=1)), sig)
    assert not ED25519.verify(ED25519.generate().public_key, msg, sig)


def test_malformed_inputs_return_false() -> None:
    sig = ED25519.sign(KP.private_key, b"m")
    l_order = (2**252 + 27742317777372353535851937790883648493).to_bytes(32, "little")
    for pub, s in [
        (b"", sig),
        (KP.public_key[:31], sig),
        (KP.public_key + b"\x00", sig),
        (KP.public_key, sig[:63]),
        (KP.public_key, sig + b"\x00"),
        (KP.public_key, b""),
        (bytes(32), sig),  # small-order public key
        (b"\xff" * 32, sig),  # not a valid point encoding
        (KP.public_key, sig[:32] + l_order),  # S not reduced mod L
        (KP.public_key, bytes(64)),
    ]:
        assert ED25519.verify(pub, b"m", s) is False
    assert ED25519.verify(KP.public_key, b"m", sig) is True


@settings(max_examples=200)
@given(st.binary(max_size=80), st.binary(max_size=80), st.binary(max_size=80))
def test_random_garbage_returns_false(pub: bytes, msg: bytes, sig: bytes) -> None:
    assert ED25519.verify(pub, msg, sig) is False


@settings(max_examples=100)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=64, max_size=64))
def test_random_well_sized_garbage_returns_false(pub: bytes, sig: bytes) -> None:
    assert ED25519.verify(pub, b"msg", sig) is False


def test_keypair_from_private_round_trip() -> None:
    kp = ED25519.generate()
    assert len(kp.private_key) == 32
    assert len(kp.public_key) == 32
    assert ED25519.keypair_from_private(kp.private_key) == kp
    assert ED25519.generate().private_key != kp.private_key


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_wrong_length_private_keys_raise(size: int) -> None:
    with pytest.raises(CryptoError):
        ED25519.keypair_from_private(b"\x01" * size)
    with pytest.raises(CryptoError):
        ED25519.sign(b"\x01" * size, b"m")


@settings(max_examples=50)
@given(st.binary(max_size=2000), st.binary(max_size=64), st.binary(min_size=32, max_size=32))
def test_aes_gcm_round_trip(plaintext: bytes, aad: bytes, key: bytes) -> None:
    sealed = ED25519.encrypt(key, plaintext, aad)
    assert len(sealed) == 12 + len(plaintext) + 16
    assert ED25519.decrypt(key, sealed, aad) == plaintext


@settings(max_examples=50)
@given(st.binary(min_size=1, max_size=200), st.data())
def test_aes_gcm_tamper_raises(plaintext: bytes, data: st.DataObject) -> None:
    key = bytes(range(32))
    sealed = bytearray(ED25519.encrypt(key, plaintext, b"ad"))
    sealed[data.draw(st.integers(0, len(sealed) - 1))] ^= data.draw(st.integers(1, 255))
    with pytest.raises(CryptoError):
        ED25519.decrypt(key, bytes(sealed), b"ad")


def test_aes_gcm_errors() -> None:
    key = b"k" * 32
    sealed = ED25519.encrypt(key, b"hello")
    assert ED25519.encrypt(key, b"hello") != sealed  # fresh nonce
    with pytest.raises(CryptoError):
        ED25519.decrypt(b"x" * 32, sealed)
    with pytest.raises(CryptoError):
        ED25519.decrypt(key, sealed, b"other ad")
    with pytest.raises(CryptoError):
        ED25519.decrypt(key, sealed[:27])
    for bad in (b"", b"k" * 16, b"k" * 31, b"k" * 33):
        with pytest.raises(CryptoError):
            ED25519.encrypt(bad, b"x")
        with pytest.raises(CryptoError):
            ED25519.decrypt(bad, sealed)
