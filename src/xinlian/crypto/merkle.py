"""Binary Merkle trees in the RFC 6962 shape, over any 32-byte hash function.

Leaves hash as ``H(0x00 || leaf)`` and inner nodes as ``H(0x01 || left || right)``; a node
without a partner at its level moves up unchanged, which gives the same root as the
RFC 6962 definition. The root of zero leaves is ``H(b"")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from xinlian.types.proof import MerkleProof

HashFn = Callable[[bytes], bytes]

_LEAF = b"\x00"
_NODE = b"\x01"


def _levels(hash_fn: HashFn, leaves: Sequence[bytes]) -> list[list[bytes]]:
    level = [hash_fn(_LEAF + leaf) for leaf in leaves]
    levels = [level]
    while len(level) > 1:
        nxt = [hash_fn(_NODE + level[i] + level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        levels.append(nxt)
        level = nxt
    return levels


def merkle_root(hash_fn: HashFn, leaves: Sequence[bytes]) -> bytes:
    """Root of the tree over ``leaves`` (each leaf is hashed with the leaf prefix)."""
    if not leaves:
        return hash_fn(b"")
    return _levels(hash_fn, leaves)[-1][0]


def merkle_proof(hash_fn: HashFn, leaves: Sequence[bytes], index: int) -> MerkleProof:
    """The path from leaf ``index`` to the root."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf index {index} out of range for {len(leaves)} leaves")
    siblings: list[bytes] = []
    idx = index
    for level in _levels(hash_fn, leaves)[:-1]:
        if idx % 2:
            siblings.append(level[idx - 1])
        elif idx + 1 < len(level):
            siblings.append(level[idx + 1])
        idx //= 2
    return MerkleProof(index=index, size=len(leaves), siblings=siblings)


def merkle_root_from_proof(hash_fn: HashFn, leaf: bytes, proof: MerkleProof) -> bytes | None:
    """Recompute the root from a leaf and its proof; None if the proof's shape is invalid."""
    if not 0 <= proof.index < proof.size:
        return None
    node = hash_fn(_LEAF + leaf)
    idx, size, used = proof.index, proof.size, 0
    while size > 1:
        if idx % 2:
            if used >= len(proof.siblings):
                return None
            node = hash_fn(_NODE + proof.siblings[used] + node)
            used += 1
        elif idx + 1 < size:
            if used >= len(proof.siblings):
                return None
            node = hash_fn(_NODE + node + proof.siblings[used])
            used += 1
        idx //= 2
        size = (size + 1) // 2
    if used != len(proof.siblings):
        return None
    return node


def verify_merkle_proof(hash_fn: HashFn, root: bytes, leaf: bytes, proof: MerkleProof) -> bool:
    """True when ``leaf`` is at ``proof.index`` in the tree whose root is ``root``."""
    return merkle_root_from_proof(hash_fn, leaf, proof) == root
