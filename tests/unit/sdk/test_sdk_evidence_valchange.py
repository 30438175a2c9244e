"""Receipts whose block was signed by a later validator set: the verifier follows the
certified validator-set changes from genesis, and every tampered part of a change is
caught by the ``validator changes`` check (or ``validator set`` when one is left out)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import msgspec
import pytest

from xinlian.codec import encode
from xinlian.crypto import KeyPair, get_suite
from xinlian.sdk import VerificationError
from xinlian.sdk.evidence import (
    CHECKS,
    EvidenceReceipt,
    ValidatorChange,
    load_receipt,
    verify_receipt,
)
from xinlian.sdk.verify import validator_set_from_genesis
from xinlian.types import (
    BlockHeader,
    Commit,
    CommitSig,
    Validator,
    ValidatorSet,
    Vote,
    VoteType,
)
from xinlian.types.genesis import Genesis

SUITE = get_suite("ed25519")


def _key(name: str) -> KeyPair:
    return SUITE.keypair_from_private(hashlib.sha256(name.encode()).digest())


def _vset(names: list[str]) -> tuple[ValidatorSet, list[KeyPair]]:
    keys = [_key(n) for n in names]
    return ValidatorSet(
        [Validator(k.public_key, 1, n) for k, n in zip(keys, names, strict=True)]
    ), keys


def _hash(vs: ValidatorSet) -> bytes:
    return SUITE.hash(encode(vs))


def _commit(header: BlockHeader, keys: list[KeyPair], signers: tuple[int, ...]) -> Commit:
    block = SUITE.hash(encode(header))
    vote = encode(Vote(header.chain_id, int(VoteType.PRECOMMIT), header.height, 0, block))
    return Commit(
        header.height,
        0,
        block,
        [CommitSig(i, SUITE.sign(keys[i].private_key, vote)) for i in signers],
    )


def _change(
    height: int, old: ValidatorSet, old_keys: list[KeyPair], new: ValidatorSet
) -> ValidatorChange:
    header = BlockHeader(
        "evidence-test", height, 1_700_000_000_000 + height, b"\x01" * 32, b"\x02" * 32,
        b"\x03" * 32, b"\x04" * 32, _hash(old), _hash(new), old_keys[0].public_key,
    )  # fmt: skip
    return ValidatorChange(header, _commit(header, old_keys, (0, 1, 2)), new)


@pytest.fixture(scope="module")
def moved(make_chain: Any) -> tuple[Genesis, dict[str, Any], bytes]:
    """A receipt at height 5 signed by set C, after changes genesis A -> B at 2 and
    B -> C at 4."""
    genesis, doc = make_chain()
    r = load_receipt(doc)
    a = validator_set_from_genesis(genesis)
    a_keys = [_key(f"val{i}") for i in range(4)]
    b, b_keys = _vset([f"b{i}" for i in range(4)])
    c, c_keys = _vset([f"c{i}" for i in range(5)])
    header = msgspec.structs.replace(
        r.header, validators_hash=_hash(c), next_validators_hash=_hash(c)
    )
    fields = {f: getattr(r, f) for f in r.__dataclass_fields__}
    fields.update(
        header=header,
        block_hash=SUITE.hash(encode(header)),
        commit=_commit(header, c_keys, (0, 1, 2, 4)),
        validators=c,
        validator_changes=(_change(2, a, a_keys, b), _change(4, b, b_keys, c)),
    )
    file = b"judgment of the court, page 1\n" * 1000
    return genesis, EvidenceReceipt(**fields).to_json(), file


@pytest.fixture(scope="module")
def make_chain() -> Any:
    from test_sdk_evidence import make_chain as build  # same folder (rootdir-relative import)

    return build


def fails(check: str, doc: dict[str, Any], genesis: Genesis, data: bytes, match: str = "") -> None:
    assert check in CHECKS
    with pytest.raises(VerificationError, match=f"^check {check} failed: .*{match}"):
        verify_receipt(doc, genesis, data)


def test_receipt_after_two_changes_verifies(moved: tuple[Genesis, dict[str, Any], bytes]) -> None:
    genesis, doc, data = moved
    got = verify_receipt(doc, genesis, data)
    assert (got.signed_power, got.total_power) == (4, 5)
    assert load_receipt(doc).to_json() == doc and len(doc["validator_changes"]) == 2


def test_a_left_out_change_is_caught(moved: tuple[Genesis, dict[str, Any], bytes]) -> None:
    genesis, doc, data = moved
    none = copy.deepcopy(doc)
    none["validator_changes"] = []
    fails("validator set", none, genesis, data, "not the genesis set")
    last_only = copy.deepcopy(doc)
    del last_only["validator_changes"][0]
    fails("validator changes", last_only, genesis, data, "change 0 at height 4: header 4 names")
    first_only = copy.deepcopy(doc)
    del first_only["validator_changes"][1]
    fails("validator set", first_only, genesis, data, "followed through")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda c: c["header"].update(time_ms=1), "change 1 at height 4: commit is for block"),
        (lambda c: c["commit"]["signatures"][0].update(signature="00" * 64), "bad precommit"),
        (lambda c: c["commit"].update(signatures=c["commit"]["signatures"][:2]), "two thirds"),
        (lambda c: c["validators"][0].update(power=9), "not the one the header names next"),
        (lambda c: c["validators"].pop(), "not the one the header names next"),
        (lambda c: c["header"].update(chain_id="other"), "header is of chain 'other'"),
        (lambda c: c["header"].update(height=7), "before 5"),
    ],
)
def test_tampered_change(
    moved: tuple[Genesis, dict[str, Any], bytes], mutate: Any, match: str
) -> None:
    genesis, doc, data = moved
    bad = copy.deepcopy(doc)
    mutate(bad["validator_changes"][1])
    fails("validator changes", bad, genesis, data, match)


def test_changes_out_of_order(moved: tuple[Genesis, dict[str, Any], bytes]) -> None:
    genesis, doc, data = moved
    bad = copy.deepcopy(doc)
    bad["validator_changes"].insert(1, bad["validator_changes"][0])
    fails("validator changes", bad, genesis, data, "change 1 at height 2: .*height order")
    swapped = copy.deepcopy(doc)
    swapped["validator_changes"].reverse()  # B -> C first: not signed by the genesis set
    fails("validator changes", swapped, genesis, data, "change 0 at height 4: header 4 names")


def test_new_set_signing_with_the_old_set_is_refused(
    moved: tuple[Genesis, dict[str, Any], bytes],
) -> None:
    # The final block names set C but the receipt claims set B signed it.
    genesis, doc, data = moved
    bad = copy.deepcopy(doc)
    bad["validators"] = bad["validator_changes"][0]["validators"]
    fails("validator set", bad, genesis, data, "not the one the header names")


def test_version_1_receipts_are_still_read(make_chain: Any) -> None:
    genesis, doc = make_chain()
    old = copy.deepcopy(doc)
    old["version"] = 1
    del old["validator_changes"]
    assert verify_receipt(old, genesis, b"judgment of the court, page 1\n" * 1000).height == 5
    old["version"] = 3
    fails("format", old, genesis, b"", "unsupported version 3")
