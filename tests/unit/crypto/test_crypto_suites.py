"""Properties every crypto suite shares, checked for ``ed25519`` and ``sm`` alike."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.crypto import CryptoError, CryptoSuite, get_suite

SUITES = ["ed25519", "sm"]


@pytest.fixture(params=SUITES)
def suite(request: pytest.FixtureRequest) -> CryptoSuite:
    return get_suite(request.param)


def test_interface_shape(suite: CryptoSuite) -> None:
    kp = suite.generate()
    assert kp.suite == suite.name
    assert len(kp.private_key) == 32
    assert len(kp.public_key) == suite.public_key_size
    sig = suite.sign(kp.private_key, b"m")
    assert len(sig) == suite.signature_size
    assert len(suite.hash(b"")) == 32
    assert suite.hash_name in ("sha256", "sm3")


def test_keypair_from_private_round_trip(suite: CryptoSuite) -> None:
    for _ in range(5):
        kp = suite.generate()
        again = suite.keypair_from_private(kp.private_key)
        assert again == kp
        assert suite.verify(again.public_key, b"x", suite.sign(kp.private_key, b"x"))


@pytest.mark.parametrize("size", [0, 1, 31, 33, 65])
def test_wrong_length_private_key_raises(suite: CryptoSuite, size: int) -> None:
    with pytest.raises(CryptoError):
        suite.keypair_from_private(b"\x07" * size)
    with pytest.raises(CryptoError):
        suite.sign(b"\x07" * size, b"m")


def test_signatures_do_not_cross_suites() -> None:
    ed, sm = get_suite("ed25519"), get_suite("sm")
    ed_kp, sm_kp = ed.generate(), sm.generate()
    ed_sig, sm_sig = ed.sign(ed_kp.private_key, b"m"), sm.sign(sm_kp.private_key, b"m")
    assert not ed.verify(sm_kp.public_key, b"m", sm_sig)
    assert not sm.verify(ed_kp.public_key, b"m", ed_sig)
    assert not sm.verify(sm_kp.public_key, b"m", ed_sig)
    assert not ed.verify(ed_kp.public_key, b"m", sm_sig)
    assert ed.hash(b"m") != sm.hash(b"m")


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(SUITES), msg=st.binary(max_size=256), other=st.binary(max_size=256))
def test_signature_binds_message(name: str, msg: bytes, other: bytes) -> None:
    suite = get_suite(name)
    kp = suite.generate()
    sig = suite.sign(kp.private_key, msg)
    assert suite.verify(kp.public_key, msg, sig)
    assert suite.verify(kp.public_key, other, sig) is (other == msg)
