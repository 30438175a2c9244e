"""Offline verification: commit certificates, Merkle proofs, state proofs, tx bundles."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.codec import encode
from xinlian.crypto import KeyPair, get_suite
from xinlian.crypto.merkle import merkle_proof, merkle_root
from xinlian.crypto.proofs import EMPTY_HASH, state_internal_hash, state_leaf_hash
from xinlian.sdk import Signer, TxProof, VerificationError
from xinlian.sdk.verify import (
    block_hash,
    validator_set_hash,
    verify_commit,
    verify_receipt_proof,
    verify_state_proof,
    verify_tx_inclusion,
    verify_tx_proof,
)
from xinlian.types import (
    BlockHeader,
    Commit,
    CommitSig,
    Event,
    MerkleProof,
    Receipt,
    StateProof,
    StateProofStep,
    Validator,
    ValidatorSet,
    Vote,
    VoteType,
)

SUITE = get_suite("ed25519")
CHAIN = "verify-test"


def _validators(powers: list[int]) -> tuple[list[KeyPair], ValidatorSet]:
    keys = [SUITE.generate() for _ in powers]
    vs = ValidatorSet(
        [
            Validator(k.public_key, p, f"v{i}")
            for i, (k, p) in enumerate(zip(keys, powers, strict=True))
        ]
    )
    return keys, vs


def _header(vs: ValidatorSet, height: int = 5, **over: bytes) -> BlockHeader:
    fields = {
        "tx_root": SUITE.hash(b""),
        "state_root": bytes(32),
        "receipts_root": SUITE.hash(b""),
    }
    fields.update(over)
    vh = validator_set_hash(SUITE, vs)
    return BlockHeader(
        chain_id=CHAIN,
        height=height,
        time_ms=1_700_000_000_000,
        prev_hash=b"\x01" * 32,
        tx_root=fields["tx_root"],
        state_root=fields["state_root"],
        receipts_root=fields["receipts_root"],
        validators_hash=vh,
        next_validators_hash=vh,
        proposer=vs.validators[0].public_key,
    )


def _sign(key: KeyPair, header: BlockHeader, round_: int = 0, hash_: bytes | None = None) -> bytes:
    vote = Vote(
        CHAIN, int(VoteType.PRECOMMIT), header.height, round_, hash_ or block_hash(SUITE, header)
    )
    return SUITE.sign(key.private_key, encode(vote))


def _commit(
    keys: list[KeyPair], header: BlockHeader, signers: list[int], round_: int = 0
) -> Commit:
    sigs = [CommitSig(i, _sign(keys[i], header, round_)) for i in signers]
    return Commit(header.height, round_, block_hash(SUITE, header), sigs)


def test_commit_of_more_than_two_thirds_is_accepted() -> None:
    keys, vs = _validators([1, 1, 1, 1])
    header = _header(vs)
    assert verify_commit(SUITE, header, _commit(keys, header, [0, 1, 2]), vs) == 3
    assert verify_commit(SUITE, header, _commit(keys, header, [3, 1, 0, 2]), vs) == 4
    assert verify_commit(SUITE, header, _commit(keys, header, [1, 2, 3], round_=2), vs) == 3


def test_commit_without_enough_power_is_rejected() -> None:
    keys, vs = _validators([1, 1, 1, 1])
    header = _header(vs)
    with pytest.raises(VerificationError, match="2 of 4 voting power"):
        verify_commit(SUITE, header, _commit(keys, header, [0, 1]), vs)
    with pytest.raises(VerificationError, match="0 of 4"):
        verify_commit(SUITE, header, _commit(keys, header, []), vs)
    # Exactly two thirds is not more than two thirds.
    keys3, vs3 = _validators([1, 1, 1])
    header3 = _header(vs3)
    with pytest.raises(VerificationError, match="2 of 3"):
        verify_commit(SUITE, header3, _commit(keys3, header3, [0, 2]), vs3)


def test_commit_counts_power_not_heads() -> None:
    keys, vs = _validators([10, 1, 1, 1])
    header = _header(vs)
    assert verify_commit(SUITE, header, _commit(keys, header, [0]), vs) == 10
    with pytest.raises(VerificationError, match="3 of 13"):
        verify_commit(SUITE, header, _commit(keys, header, [1, 2, 3]), vs)


def test_a_validator_counted_twice_is_rejected() -> None:
    keys, vs = _validators([1, 1, 1, 1])
    header = _header(vs)
    good = _commit(keys, header, [0, 1])
    doubled = Commit(
        good.height, good.round, good.block_hash, [*good.signatures, good.signatures[1]]
    )
    with pytest.raises(VerificationError, match="twice"):
        verify_commit(SUITE, header, doubled, vs)


def test_bad_signatures_are_rejected() -> None:
    keys, vs = _validators([1, 1, 1, 1])
    header = _header(vs)
    good = _commit(keys, header, [0, 1, 2])
    # A flipped bit.
    sig = bytearray(good.signatures[2].signature)
    sig[5] ^= 1
    tampered = Commit(
        good.height, good.round, good.block_hash, [*good.signatures[:2], CommitSig(2, bytes(sig))]
    )
    with pytest.raises(VerificationError, match="bad precommit signature of validator 2"):
        verify_commit(SUITE, header, tampered, vs)
    # A signature by someone else at validator 2's index.
    intruder = SUITE.generate()
    forged = Commit(
        good.height,
        good.round,
        good.block_hash,
        [*good.signatures[:2], CommitSig(2, _sign(intruder, header))],
    )
    with pytest.raises(VerificationError, match="validator 2"):
        verify_commit(SUITE, header, forged, vs)
    # Signed for round 0, presented as round 1.
    moved = Commit(good.height, 1, good.block_hash, good.signatures)
    with pytest.raises(VerificationError, match="bad precommit"):
        verify_commit(SUITE, header, moved, vs)
    # A prevote is not a precommit.
    prevote = Vote(CHAIN, int(VoteType.PREVOTE), header.height, 0, block_hash(SUITE, header))
    as_prevotes = Commit(
        good.height,
        0,
        good.block_hash,
        [CommitSig(i, SUITE.sign(keys[i].private_key, encode(prevote))) for i in range(3)],
    )
    with pytest.raises(VerificationError, match="bad precommit"):
        verify_commit(SUITE, header, as_prevotes, vs)
    out_of_range = Commit(
        good.height, good.round, good.block_hash, [*good.signatures, CommitSig(9, bytes(sig))]
    )
    with pytest.raises(VerificationError, match="index 9"):
        verify_commit(SUITE, header, out_of_range, vs)


def test_commit_for_another_block_is_rejected() -> None:
    keys, vs = _validators([1, 1, 1, 1])
    header = _header(vs)
    other = _header(vs, state_root=b"\x07" * 32)
    commit_for_other = _commit(keys, other, [0, 1, 2, 3])
    with pytest.raises(VerificationError, match="not for this header"):
        verify_commit(SUITE, header, commit_for_other, vs)
    # Signatures over another hash, relabelled with this header's hash.
    relabelled = Commit(header.height, 0, block_hash(SUITE, header), commit_for_other.signatures)
    with pytest.raises(VerificationError, match="bad precommit"):
        verify_commit(SUITE, header, relabelled, vs)
    wrong_height = Commit(
        header.height + 1, 0, block_hash(SUITE, header), commit_for_other.signatures
    )
    with pytest.raises(VerificationError, match="height"):
        verify_commit(SUITE, header, wrong_height, vs)


def test_header_of_another_validator_set_is_rejected() -> None:
    keys, vs = _validators([1, 1, 1, 1])
    _, other_vs = _validators([1, 1, 1, 1])
    header = _header(vs)
    with pytest.raises(VerificationError, match="validator set"):
        verify_commit(SUITE, header, _commit(keys, header, [0, 1, 2]), other_vs)


def test_the_sm_suite_verifies_commits_too() -> None:
    sm = get_suite("sm")
    keys = [sm.generate() for _ in range(3)]
    vs = ValidatorSet([Validator(k.public_key, 1, f"v{i}") for i, k in enumerate(keys)])
    vh = sm.hash(encode(vs))
    header = BlockHeader(CHAIN, 1, 0, b"", b"", b"", b"", vh, vh, keys[0].public_key)
    bh = sm.hash(encode(header))
    vote = encode(Vote(CHAIN, 2, 1, 0, bh))
    commit = Commit(
        1, 0, bh, [CommitSig(i, sm.sign(k.private_key, vote)) for i, k in enumerate(keys)]
    )
    assert verify_commit(sm, header, commit, vs) == 3
    with pytest.raises(VerificationError):
        verify_commit(SUITE, header, commit, vs)  # hashed with the wrong suite


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.data())
def test_merkle_tx_proofs_verify_and_tampering_fails(n: int, data: st.DataObject) -> None:
    leaves = [SUITE.hash(i.to_bytes(4, "big")) for i in range(n)]
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    _, vs = _validators([1])
    header = _header(vs, tx_root=merkle_root(SUITE.hash, leaves))
    proof = merkle_proof(SUITE.hash, leaves, index)
    verify_tx_proof(SUITE, header, leaves[index], proof)
    with pytest.raises(VerificationError):
        verify_tx_proof(SUITE, header, SUITE.hash(b"other"), proof)
    if n > 1:
        with pytest.raises(VerificationError):
            verify_tx_proof(
                SUITE, header, leaves[index], MerkleProof((index + 1) % n, n, proof.siblings)
            )
        k = data.draw(st.integers(min_value=0, max_value=len(proof.siblings) - 1))
        siblings = list(proof.siblings)
        siblings[k] = bytes(b ^ 0xFF for b in siblings[k])
        with pytest.raises(VerificationError):
            verify_tx_proof(SUITE, header, leaves[index], MerkleProof(index, n, siblings))
        with pytest.raises(VerificationError):
            verify_tx_proof(
                SUITE, header, leaves[index], MerkleProof(index, n, proof.siblings[:-1])
            )
    with pytest.raises(VerificationError):
        verify_tx_proof(
            SUITE, header, leaves[index], MerkleProof(index, n, [*proof.siblings, bytes(32)])
        )


def _receipts(n: int) -> list[Receipt]:
    return [
        Receipt(SUITE.hash(bytes([i])), 0, 1000 + i, [Event("kv.put", {"key": str(i)})], "", b"")
        for i in range(n)
    ]


def test_receipt_proofs_verify_and_tampering_fails() -> None:
    receipts = _receipts(5)
    _, vs = _validators([1])
    header = _header(vs, receipts_root=merkle_root(SUITE.hash, [encode(r) for r in receipts]))
    proof = merkle_proof(SUITE.hash, [encode(r) for r in receipts], 3)
    verify_receipt_proof(SUITE, header, receipts[3], proof)
    forged = Receipt(receipts[3].tx_hash, 1, receipts[3].gas_used, [], "failed", b"")
    with pytest.raises(VerificationError, match="receipt"):
        verify_receipt_proof(SUITE, header, forged, proof)
    with pytest.raises(VerificationError):
        verify_receipt_proof(SUITE, header, receipts[2], proof)


def test_state_proofs_of_presence_and_absence() -> None:
    h = SUITE.hash
    # Two keys whose hashes differ in the first nibble sit under one internal root node.
    keys = [b"kv/a", b"kv/b", b"kv/c", b"kv/d", b"kv/e"]
    a = keys[0]
    b = next(k for k in keys[1:] if h(k)[0] >> 4 != h(a)[0] >> 4)
    leaves = {k: state_leaf_hash(h, h(k), h(v)) for k, v in ((a, b"1"), (b, b"2"))}
    children = [EMPTY_HASH] * 16
    children[h(a)[0] >> 4] = leaves[a]
    children[h(b)[0] >> 4] = leaves[b]
    root = state_internal_hash(h, children)

    def step(key: bytes) -> StateProofStep:
        nib = h(key)[0] >> 4
        return StateProofStep(nib, [c for i, c in enumerate(children) if i != nib])

    proof_a = StateProof([step(a)], h(a), h(b"1"))
    verify_state_proof(SUITE, root, a, b"1", proof_a)
    with pytest.raises(VerificationError, match="value"):
        verify_state_proof(SUITE, root, a, b"2", proof_a)
    with pytest.raises(VerificationError, match="absence"):
        verify_state_proof(SUITE, root, a, None, proof_a)
    # Absence of a key whose path ends in an empty slot.
    missing = next(
        k
        for k in (f"kv/x{i}".encode() for i in range(100))
        if h(k)[0] >> 4 not in {h(a)[0] >> 4, h(b)[0] >> 4}
    )
    absent = StateProof([step(missing)], b"", b"")
    verify_state_proof(SUITE, root, missing, None, absent)
    with pytest.raises(VerificationError):
        verify_state_proof(SUITE, root, missing, b"1", absent)
    # A header carries the root.
    _, vs = _validators([1])
    verify_state_proof(SUITE, _header(vs, state_root=root), a, b"1", proof_a)
    with pytest.raises(VerificationError):
        verify_state_proof(SUITE, _header(vs, state_root=h(b"x")), a, b"1", proof_a)


def test_tx_inclusion_bundle_verifies_offline() -> None:
    keys, vs = _validators([1, 1, 1, 1])
    signer = Signer.generate()
    txs = [
        signer.build(
            chain_id=CHAIN,
            nonce=i,
            target="kv",
            method="put",
            args={"key": str(i), "value": "v"},
            expiry=10,
        )
        for i in range(3)
    ]
    receipts = [
        Receipt(t.hash, 0, 1234, [Event("kv.put", {"key": str(i)})], "", b"")
        for i, t in enumerate(txs)
    ]
    tx_leaves = [t.hash for t in txs]
    receipt_leaves = [encode(r) for r in receipts]
    header = _header(
        vs,
        tx_root=merkle_root(SUITE.hash, tx_leaves),
        receipts_root=merkle_root(SUITE.hash, receipt_leaves),
    )
    proof = TxProof(
        block_hash=block_hash(SUITE, header),
        header=header,
        commit=_commit(keys, header, [0, 1, 2]),
        tx_proof=merkle_proof(SUITE.hash, tx_leaves, 1),
        receipt_proof=merkle_proof(SUITE.hash, receipt_leaves, 1),
    )
    assert verify_tx_inclusion(SUITE, vs, txs[1].raw, receipts[1], proof, CHAIN) == txs[1].hash
    with pytest.raises(VerificationError, match="chain"):
        verify_tx_inclusion(SUITE, vs, txs[1].raw, receipts[1], proof, "other-chain")
    with pytest.raises(VerificationError, match="another transaction"):
        verify_tx_inclusion(SUITE, vs, txs[1].raw, receipts[0], proof)
    with pytest.raises(VerificationError):
        verify_tx_inclusion(SUITE, vs, txs[0].raw, receipts[0], proof)
    weak = dataclasses.replace(proof, commit=_commit(keys, header, [0, 1]))
    with pytest.raises(VerificationError, match="voting power"):
        verify_tx_inclusion(SUITE, vs, txs[1].raw, receipts[1], weak)
    lying = dataclasses.replace(proof, block_hash=b"\x00" * 32)
    with pytest.raises(VerificationError, match="block hash"):
        verify_tx_inclusion(SUITE, vs, txs[1].raw, receipts[1], lying)
