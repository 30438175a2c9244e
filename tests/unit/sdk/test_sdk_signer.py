"""Transaction building and signing in the SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xinlian.apps.governance import AddOrgParams, ProposeArgs
from xinlian.apps.identity import RegisterAccountArgs
from xinlian.apps.kv import PutArgs
from xinlian.codec import decode, decode_args, encode, encode_args
from xinlian.crypto import address_of, get_suite
from xinlian.node.keys import write_key
from xinlian.sdk import Signer, XinlianError, encode_call_args, read_key_file, transaction_hash
from xinlian.types import SignedTransaction, Transaction


@pytest.mark.parametrize("suite_name", ["ed25519", "sm"])
def test_built_tx_hash_matches_codec_and_signature_verifies(suite_name: str) -> None:
    signer = Signer.generate(suite_name)
    suite = get_suite(suite_name)
    stx = signer.build(
        chain_id="c1",
        nonce=7,
        target="kv",
        method="put",
        args={"key": "a", "value": "b"},
        gas_limit=50_000,
        expiry=99,
    )
    assert stx.raw == encode(stx.stx)
    assert stx.hash == suite.hash(encode(stx.stx))
    assert stx.hash == transaction_hash(suite, stx.stx)
    assert decode(stx.raw, SignedTransaction) == stx.stx  # canonical: round-trips strictly
    tx = stx.tx
    assert (tx.chain_id, tx.nonce, tx.target, tx.method, tx.gas_limit, tx.expiry) == (
        "c1",
        7,
        "kv",
        "put",
        50_000,
        99,
    )
    assert tx.sender == signer.public_key
    assert suite.verify(signer.public_key, encode(tx), stx.stx.signature)
    # The signature covers the body: another body does not verify with it.
    other = Transaction("c2", tx.sender, 7, "kv", "put", tx.args, 50_000, 99)
    assert not suite.verify(signer.public_key, encode(other), stx.stx.signature)
    assert signer.address == address_of(suite, signer.public_key)


def test_args_decode_into_the_apps_records() -> None:
    assert decode_args(encode_call_args({"key": "k", "value": "v"}), PutArgs) == PutArgs("k", "v")
    pk = bytes(range(32))
    raw = encode_call_args({"public_key": pk, "name": "alice", "roles": ["writer"]})
    assert decode_args(raw, RegisterAccountArgs) == RegisterAccountArgs(pk, "alice", ["writer"])
    params = encode_call_args(
        {"id": "org4", "name": "ORG4", "admin_public_key": pk, "admin_name": "a"}
    )
    raw = encode_call_args({"action": "add_org", "params": params})
    decoded = decode_args(raw, ProposeArgs)
    assert decode_args(decoded.params, AddOrgParams).admin_public_key == pk


def test_encode_call_args_forms() -> None:
    assert encode_call_args(None) == encode_args({})
    assert encode_call_args({"b": 1, "a": 2}) == encode_args({"a": 2, "b": 1})
    raw = encode_args({"x": 1})
    assert encode_call_args(raw) == raw
    with pytest.raises(XinlianError, match="float"):
        encode_call_args({"x": 1.5})
    with pytest.raises(XinlianError, match="64-bit"):
        encode_call_args({"x": 2**70})


def test_sign_refuses_a_body_of_another_sender() -> None:
    a, b = Signer.generate(), Signer.generate()
    tx = Transaction("c", b.public_key, 0, "kv", "put", encode_args({}), 10_000, 5)
    with pytest.raises(XinlianError, match="sender"):
        a.sign(tx)
    with pytest.raises(XinlianError, match="negative"):
        a.build(chain_id="c", nonce=-1, target="kv", method="put", expiry=1)


def test_key_files_round_trip_and_fail_clearly(tmp_path: Path) -> None:
    kp = get_suite("ed25519").generate()
    path = tmp_path / "alice.key"
    write_key(path, kp, "alice")
    loaded, name = read_key_file(path)
    assert (loaded, name) == (kp, "alice")
    assert Signer.from_file(path).address == address_of(get_suite("ed25519"), kp.public_key)

    with pytest.raises(XinlianError, match="no key file"):
        read_key_file(tmp_path / "missing.key")
    (tmp_path / "bad.key").write_text("{not json")
    with pytest.raises(XinlianError, match=r"bad\.key is not a key file"):
        read_key_file(tmp_path / "bad.key")
    doc = json.loads(path.read_text())
    doc["public_key"] = get_suite("ed25519").generate().public_key.hex()
    (tmp_path / "mismatch.key").write_text(json.dumps(doc))
    with pytest.raises(XinlianError, match="does not match"):
        read_key_file(tmp_path / "mismatch.key")
    with pytest.raises(XinlianError, match="unknown crypto suite"):
        Signer.generate("rsa")
