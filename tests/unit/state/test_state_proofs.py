"""State proofs: every honest proof verifies, every tampered one fails, and a proof
never convinces a verifier of something false."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.codec import decode, encode
from xinlian.crypto import get_suite
from xinlian.crypto.proofs import (
    EMPTY_HASH,
    state_internal_hash,
    state_leaf_hash,
    state_root_from_proof,
    verify_state_proof,
)
from xinlian.state import StateTree
from xinlian.storage import MemoryStore, WriteBatch
from xinlian.types.proof import StateProof, StateProofStep

SUITE = get_suite("ed25519")
H = SUITE.hash
N_KEYS = 600  # deep enough for proofs of 2 to 5 steps


def _build(
    items: dict[bytes, bytes], hash_fn: Callable[[bytes], bytes] = H
) -> tuple[StateTree, bytes]:
    store = MemoryStore()
    tree = StateTree(store, hash_fn)
    batch = WriteBatch()
    root = tree.apply(1, dict(items), batch)
    store.write(batch)
    return tree, root


STATE = {b"k/%d" % i: b"value %d" % i for i in range(N_KEYS)}
TREE, ROOT = _build(STATE)
PRESENT = [b"k/%d" % i for i in range(0, N_KEYS, 37)]
ABSENT = [b"absent/%d" % i for i in range(40)]


def _proofs() -> list[tuple[bytes, bytes | None, StateProof]]:
    out = []
    for key in PRESENT + ABSENT:
        value, proof = TREE.prove(key)
        out.append((key, value, proof))
    return out


PROOFS = _proofs()


def test_honest_proofs_verify() -> None:
    kinds = set()
    for key, value, proof in PROOFS:
        assert value == STATE.get(key)
        assert verify_state_proof(H, ROOT, key, value, proof)
        assert state_root_from_proof(H, key, value, proof) == ROOT
        kinds.add((value is None, proof.leaf_key_hash == b""))
        # Proofs survive the canonical encoding (what the API and SDK exchange).
        again = decode(encode(proof), StateProof)
        assert verify_state_proof(H, ROOT, key, value, again)
    # Inclusion, exclusion through an empty slot, exclusion through another leaf.
    assert kinds == {(False, False), (True, True), (True, False)}
    assert max(len(p.steps) for _, _, p in PROOFS) >= 3


def _replace_step(proof: StateProof, i: int, step: StateProofStep) -> StateProof:
    steps = list(proof.steps)
    steps[i] = step
    return StateProof(steps, proof.leaf_key_hash, proof.leaf_value_hash)


def test_flipping_any_sibling_byte_fails() -> None:
    for key, value, proof in PROOFS[::3]:
        for i, step in enumerate(proof.steps):
            for j in range(15):
                for pos in (0, 31):
                    sib = bytearray(step.children[j])
                    sib[pos] ^= 0x01
                    children = list(step.children)
                    children[j] = bytes(sib)
                    bad = _replace_step(proof, i, StateProofStep(step.nibble, children))
                    assert not verify_state_proof(H, ROOT, key, value, bad)


def test_changing_a_nibble_fails() -> None:
    for key, value, proof in PROOFS:
        for i, step in enumerate(proof.steps):
            for nib in (step.nibble ^ 1, (step.nibble + 7) % 16, 16, -1):
                bad = _replace_step(proof, i, StateProofStep(nib, list(step.children)))
                assert not verify_state_proof(H, ROOT, key, value, bad)


def test_dropping_or_adding_a_step_fails() -> None:
    for key, value, proof in PROOFS:
        for i in range(len(proof.steps)):
            steps = proof.steps[:i] + proof.steps[i + 1 :]
            bad = StateProof(steps, proof.leaf_key_hash, proof.leaf_value_hash)
            assert not verify_state_proof(H, ROOT, key, value, bad)
        extra = StateProof(
            [*proof.steps, StateProofStep(0, [EMPTY_HASH] * 15)],
            proof.leaf_key_hash,
            proof.leaf_value_hash,
        )
        assert not verify_state_proof(H, ROOT, key, value, extra)


def test_changing_the_value_fails() -> None:
    for key, value, proof in PROOFS:
        if value is None:
            assert not verify_state_proof(H, ROOT, key, b"anything", proof)
            assert not verify_state_proof(H, ROOT, key, b"", proof)
        else:
            assert not verify_state_proof(H, ROOT, key, value + b"!", proof)
            assert not verify_state_proof(H, ROOT, key, None, proof)
            tampered = StateProof(proof.steps, proof.leaf_key_hash, H(value + b"!"))
            assert not verify_state_proof(H, ROOT, key, value, tampered)


def test_swapping_the_leaf_fails() -> None:
    leaves = [(p.leaf_key_hash, p.leaf_value_hash) for _, _, p in PROOFS if p.leaf_key_hash]
    for key, value, proof in PROOFS:
        for kh, vh in leaves[:10]:
            if kh == proof.leaf_key_hash:
                continue
            bad = StateProof(proof.steps, kh, vh)
            assert not verify_state_proof(H, ROOT, key, value, bad)
        if proof.leaf_key_hash:
            emptied = StateProof(proof.steps, b"", b"")
            assert not verify_state_proof(H, ROOT, key, None, emptied)
            half = StateProof(proof.steps, proof.leaf_key_hash, b"")
            assert not verify_state_proof(H, ROOT, key, value, half)


def test_proof_of_another_key_never_lies() -> None:
    for key, _, _ in PROOFS:
        for other, other_value, other_proof in PROOFS:
            if other == key:
                continue
            for claim in (other_value, None, STATE.get(key)):
                if verify_state_proof(H, ROOT, key, claim, other_proof):
                    assert claim is None and key not in STATE


def test_wrong_root_and_malformed_input_fail_without_raising() -> None:
    key, value, proof = PROOFS[0]
    assert not verify_state_proof(H, H(b"other root"), key, value, proof)
    assert not verify_state_proof(H, ROOT[:31], key, value, proof)
    step = proof.steps[0]
    malformed = [
        StateProof([StateProofStep(step.nibble, step.children[:14])], b"", b""),
        StateProof([StateProofStep(step.nibble, [*step.children[:14], b"short"])], b"", b""),
        StateProof([StateProofStep(step.nibble, [*step.children[:14], 5])], b"", b""),  # type: ignore[list-item]
        StateProof([StateProofStep("0", step.children)], b"", b""),  # type: ignore[arg-type]
        StateProof(proof.steps, b"x" * 31, b"y" * 32),
        StateProof(proof.steps, None, None),  # type: ignore[arg-type]
        StateProof([step] * 65, b"", b""),
    ]
    for bad in malformed:
        assert not verify_state_proof(H, ROOT, key, value, bad)
        assert not verify_state_proof(H, ROOT, key, None, bad)
    assert not verify_state_proof(H, ROOT, "text", value, proof)  # type: ignore[arg-type]


def test_non_canonical_bottom_node_is_rejected() -> None:
    # A leaf placed one level too deep (its node would have been collapsed) hashes to a
    # different root in an honest tree; the verifier rejects the shape outright.
    key = b"solo"
    kh = H(key)
    leaf = state_leaf_hash(H, kh, H(b"v"))
    nib = kh[0] >> 4
    children = [EMPTY_HASH] * 16
    children[nib] = leaf
    fake_root = state_internal_hash(H, children)
    siblings = [EMPTY_HASH] * 15
    fake = StateProof([StateProofStep(nib, siblings)], kh, H(b"v"))
    assert state_root_from_proof(H, key, b"v", fake) is None
    assert not verify_state_proof(H, fake_root, key, b"v", fake)


def test_leaf_off_the_key_path_is_rejected() -> None:
    # An exclusion proof must end at a leaf on the key's own path.
    key = b"k/1"
    kh = H(key)
    other = next(k for k in (b"o%d" % i for i in range(1000)) if H(k)[0] >> 4 != kh[0] >> 4)
    okh = H(other)
    children = [EMPTY_HASH] * 16
    children[kh[0] >> 4] = state_leaf_hash(H, okh, H(b"v"))
    children[(kh[0] >> 4) ^ 1] = state_leaf_hash(H, H(b"third"), H(b"w"))
    siblings = children[: kh[0] >> 4] + children[(kh[0] >> 4) + 1 :]
    fake = StateProof([StateProofStep(kh[0] >> 4, siblings)], okh, H(b"v"))
    assert state_root_from_proof(H, key, None, fake) is None


def test_empty_and_single_leaf_trees() -> None:
    empty_tree, empty_root = _build({})
    assert empty_root == EMPTY_HASH
    value, proof = empty_tree.prove(b"x")
    assert value is None and proof.steps == [] and proof.leaf_key_hash == b""
    assert verify_state_proof(H, EMPTY_HASH, b"x", None, proof)
    assert not verify_state_proof(H, EMPTY_HASH, b"x", b"", proof)

    one_tree, one_root = _build({b"only": b"1"})
    assert one_root == state_leaf_hash(H, H(b"only"), H(b"1"))
    value, proof = one_tree.prove(b"only")
    assert value == b"1" and proof.steps == []
    assert verify_state_proof(H, one_root, b"only", b"1", proof)
    value, proof = one_tree.prove(b"other")
    assert value is None and proof.leaf_key_hash == H(b"only")
    assert verify_state_proof(H, one_root, b"other", None, proof)
    assert not verify_state_proof(H, one_root, b"only", None, proof)


def _blake(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def test_hash_function_is_a_parameter() -> None:
    items = {b"a": b"1", b"b": b"2", b"c": b"3"}
    tree, root = _build(items, _blake)
    _, sha_root = _build(items)
    assert root != sha_root
    value, proof = tree.prove(b"b")
    assert verify_state_proof(_blake, root, b"b", value, proof)
    assert not verify_state_proof(H, root, b"b", value, proof)


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(PRESENT + ABSENT + [b"k/1", b"k/2"]),
    source=st.integers(0, len(PROOFS) - 1),
    claim=st.none() | st.sampled_from([b"value 1", b"value 2", b"", b"x"]),
    step=st.integers(0, 10),
    child=st.integers(0, 14),
    mutation=st.sampled_from(["none", "sibling", "nibble", "leaf_kh", "leaf_vh", "drop"]),
    byte=st.integers(0, 31),
)
def test_soundness_under_random_tampering(
    key: bytes,
    source: int,
    claim: bytes | None,
    step: int,
    child: int,
    mutation: str,
    byte: int,
) -> None:
    """Whatever a prover sends, a verified claim is a true claim."""
    _, _, proof = PROOFS[source]
    steps = list(proof.steps)
    leaf_kh, leaf_vh = proof.leaf_key_hash, proof.leaf_value_hash
    if steps and mutation in ("sibling", "nibble", "drop"):
        i = step % len(steps)
        s = steps[i]
        if mutation == "sibling":
            sibs = list(s.children)
            b = bytearray(sibs[child])
            b[byte] ^= 0x80
            sibs[child] = bytes(b)
            steps[i] = StateProofStep(s.nibble, sibs)
        elif mutation == "nibble":
            steps[i] = StateProofStep((s.nibble + 1 + child) % 16, list(s.children))
        else:
            del steps[i]
    elif mutation == "leaf_kh" and leaf_kh:
        leaf_kh = bytes([leaf_kh[0] ^ (1 << (byte % 8))]) + leaf_kh[1:]
    elif mutation == "leaf_vh" and leaf_vh:
        leaf_vh = H(leaf_vh)
    tampered = StateProof(steps, leaf_kh, leaf_vh)
    if verify_state_proof(H, ROOT, key, claim, tampered):
        assert STATE.get(key) == claim


@pytest.mark.parametrize("key", [b"k/3", b"absent/3"])
def test_proof_size_is_bounded(key: bytes) -> None:
    _, proof = TREE.prove(key)
    assert len(encode(proof)) <= len(proof.steps) * (15 * 34 + 4) + 80
