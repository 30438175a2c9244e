"""Merkle trees: roots against an independent RFC 6962 implementation, proofs, tampering."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinlian.crypto import get_suite
from xinlian.crypto.merkle import (
    merkle_proof,
    merkle_root,
    merkle_root_from_proof,
    verify_merkle_proof,
)
from xinlian.types import MerkleProof

SETTINGS = settings(max_examples=100, deadline=None)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# ---------------------------------------------------------------------------------------
# Reference: RFC 6962 section 2.1, written recursively and independently of the module.
# ---------------------------------------------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def rfc_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + leaves[0])
    k = _split(n)
    return sha256(b"\x01" + rfc_mth(leaves[:k]) + rfc_mth(leaves[k:]))


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 2.1.1: the audit path from the leaf upward."""
    n = len(leaves)
    if n <= 1:
        return []
    k = _split(n)
    if m < k:
        return [*rfc_path(m, leaves[:k]), rfc_mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), rfc_mth(leaves[:k])]


def leaves_of(n: int) -> list[bytes]:
    return [f"leaf-{i}".encode() for i in range(n)]


def path_shape(index: int, size: int) -> list[bool]:
    """For each sibling on the path, whether it sits on the left (RFC 6962 shape)."""
    shape: list[bool] = []
    while size > 1:
        if index % 2:
            shape.append(True)
        elif index + 1 < size:
            shape.append(False)
        index //= 2
        size = (size + 1) // 2
    return shape


# ---------------------------------------------------------------------------------------
# roots
# ---------------------------------------------------------------------------------------


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert merkle_root(sha256, []) == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_known_small_roots() -> None:
    a, b, c = b"a", b"b", b"c"
    la, lb, lc = (sha256(b"\x00" + x) for x in (a, b, c))
    assert merkle_root(sha256, [a]) == la
    assert merkle_root(sha256, [a, b]) == sha256(b"\x01" + la + lb)
    assert merkle_root(sha256, [a, b, c]) == sha256(b"\x01" + sha256(b"\x01" + la + lb) + lc)


@pytest.mark.parametrize("n", range(71))
def test_root_matches_rfc6962(n: int) -> None:
    leaves = leaves_of(n)
    assert merkle_root(sha256, leaves) == rfc_mth(leaves)


@SETTINGS
@given(st.lists(st.binary(max_size=16), min_size=0, max_size=300))
def test_root_matches_rfc6962_random(leaves: list[bytes]) -> None:
    assert merkle_root(sha256, leaves) == rfc_mth(leaves)


def test_root_with_sm3() -> None:
    sm3 = get_suite("sm").hash
    leaves = leaves_of(5)
    assert merkle_root(sm3, leaves) != merkle_root(sha256, leaves)
    proof = merkle_proof(sm3, leaves, 4)
    assert verify_merkle_proof(sm3, merkle_root(sm3, leaves), leaves[4], proof)


def test_leaf_and_node_domains_are_separated() -> None:
    """A 64-byte leaf equal to two child hashes does not give the parent's hash."""
    la, lb = sha256(b"\x00a"), sha256(b"\x00b")
    assert merkle_root(sha256, [la + lb]) != merkle_root(sha256, [b"a", b"b"])


# ---------------------------------------------------------------------------------------
# proofs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 71))
def test_every_proof_verifies_and_matches_rfc_path(n: int) -> None:
    leaves = leaves_of(n)
    root = merkle_root(sha256, leaves)
    for i, leaf in enumerate(leaves):
        proof = merkle_proof(sha256, leaves, i)
        assert proof.index == i
        assert proof.size == n
        assert proof.siblings == rfc_path(i, leaves)
        assert merkle_root_from_proof(sha256, leaf, proof) == root
        assert verify_merkle_proof(sha256, root, leaf, proof)


@SETTINGS
@given(st.integers(1, 2000), st.data())
def test_random_size_proofs_verify(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    root = merkle_root(sha256, leaves)
    i = data.draw(st.integers(0, n - 1))
    proof = merkle_proof(sha256, leaves, i)
    assert len(proof.siblings) == len(path_shape(i, n))
    assert verify_merkle_proof(sha256, root, leaves[i], proof)


@pytest.mark.parametrize("index", [-1, 3, 100])
def test_proof_index_out_of_range(index: int) -> None:
    with pytest.raises(IndexError, match=f"leaf index {index} out of range for 3 leaves"):
        merkle_proof(sha256, leaves_of(3), index)


def test_no_proof_in_an_empty_tree() -> None:
    with pytest.raises(IndexError, match="leaf index 0 out of range for 0 leaves"):
        merkle_proof(sha256, [], 0)


def test_single_leaf_proof_is_empty() -> None:
    proof = merkle_proof(sha256, [b"x"], 0)
    assert proof == MerkleProof(0, 1, [])
    assert verify_merkle_proof(sha256, sha256(b"\x00x"), b"x", proof)


# ---------------------------------------------------------------------------------------
# tampering
# ---------------------------------------------------------------------------------------


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    n = draw(st.integers(2, 200))
    return leaves_of(n), draw(st.integers(0, n - 1))


@SETTINGS
@given(tree_and_index(), st.data())
def test_flipped_sibling_fails(tree: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, i = tree
    root = merkle_root(sha256, leaves)
    proof = merkle_proof(sha256, leaves, i)
    j = data.draw(st.integers(0, len(proof.siblings) - 1))
    bit = data.draw(st.integers(0, 255))
    siblings = list(proof.siblings)
    sib = bytearray(siblings[j])
    sib[bit // 8] ^= 1 << (bit % 8)
    siblings[j] = bytes(sib)
    assert not verify_merkle_proof(sha256, root, leaves[i], MerkleProof(i, len(leaves), siblings))


@SETTINGS
@given(tree_and_index(), st.data())
def test_changed_index_fails(tree: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, i = tree
    n = len(leaves)
    root = merkle_root(sha256, leaves)
    proof = merkle_proof(sha256, leaves, i)
    j = data.draw(st.integers(-2, n + 2).filter(lambda j: j != i))
    moved = MerkleProof(j, n, proof.siblings)
    assert not verify_merkle_proof(sha256, root, leaves[i], moved)


@SETTINGS
@given(tree_and_index(), st.data())
def test_changed_size_fails_unless_the_path_shape_is_the_same(
    tree: tuple[list[bytes], int], data: st.DataObject
) -> None:
    """The root does not commit to the leaf count: a size with the same left/right path
    shape verifies too. Any other size fails (so index and size are bound as a pair only
    up to shape; callers must not trust ``proof.size`` on its own)."""
    leaves, i = tree
    n = len(leaves)
    root = merkle_root(sha256, leaves)
    proof = merkle_proof(sha256, leaves, i)
    m = data.draw(st.integers(0, 2 * n + 2).filter(lambda m: m != n))
    same_shape = i < m and path_shape(i, m) == path_shape(i, n)
    assert verify_merkle_proof(sha256, root, leaves[i], MerkleProof(i, m, proof.siblings)) == (
        same_shape
    )


def test_size_is_not_committed_by_the_root() -> None:
    """Leaf 0 of a 4-leaf tree has the same path shape as in a 3-leaf tree."""
    leaves = leaves_of(4)
    root = merkle_root(sha256, leaves)
    proof = merkle_proof(sha256, leaves, 0)
    assert verify_merkle_proof(sha256, root, leaves[0], MerkleProof(0, 3, proof.siblings))
    assert not verify_merkle_proof(sha256, root, leaves[0], MerkleProof(0, 2, proof.siblings))


@SETTINGS
@given(tree_and_index(), st.binary(min_size=32, max_size=32))
def test_extra_sibling_fails(tree: tuple[list[bytes], int], extra: bytes) -> None:
    leaves, i = tree
    root = merkle_root(sha256, leaves)
    proof = merkle_proof(sha256, leaves, i)
    for siblings in ([*proof.siblings, extra], [extra, *proof.siblings]):
        bad = MerkleProof(i, len(leaves), siblings)
        assert merkle_root_from_proof(sha256, leaves[i], bad) is None
        assert not verify_merkle_proof(sha256, root, leaves[i], bad)


@SETTINGS
@given(tree_and_index(), st.data())
def test_missing_sibling_fails(tree: tuple[list[bytes], int], data: st.DataObject) -> None:
    leaves, i = tree
    root = merkle_root(sha256, leaves)
    proof = merkle_proof(sha256, leaves, i)
    j = data.draw(st.integers(0, len(proof.siblings) - 1))
    siblings = proof.siblings[:j] + proof.siblings[j + 1 :]
    bad = MerkleProof(i, len(leaves), siblings)
    assert merkle_root_from_proof(sha256, leaves[i], bad) is None
    assert not verify_merkle_proof(sha256, root, leaves[i], bad)


@SETTINGS
@given(tree_and_index(), st.binary(max_size=20))
def test_wrong_leaf_fails(tree: tuple[list[bytes], int], leaf: bytes) -> None:
    leaves, i = tree
    root = merkle_root(sha256, leaves)
    proof = merkle_proof(sha256, leaves, i)
    if leaf != leaves[i]:
        assert not verify_merkle_proof(sha256, root, leaf, proof)
    other = (i + 1) % len(leaves)
    assert not verify_merkle_proof(sha256, root, leaves[other], proof)


def test_proof_against_another_tree_fails() -> None:
    leaves = leaves_of(10)
    proof = merkle_proof(sha256, leaves, 3)
    other_root = merkle_root(sha256, [*leaves[:9], b"changed"])
    assert not verify_merkle_proof(sha256, other_root, leaves[3], proof)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (-1, 5), (5, 5), (7, 3)])
def test_out_of_range_proof_shape_is_invalid(index: int, size: int) -> None:
    proof = MerkleProof(index, size, [])
    assert merkle_root_from_proof(sha256, b"x", proof) is None
    assert not verify_merkle_proof(sha256, sha256(b"\x00x"), b"x", proof)


def test_huge_claimed_size_terminates() -> None:
    proof = MerkleProof(0, 2**64 - 1, [])
    assert merkle_root_from_proof(sha256, b"x", proof) is None
