"""Hashing rules of the state tree and offline verification of state proofs.

The state is a 16-ary sparse Merkle tree over hashed keys (Jellyfish-style):

- ``key_hash = H(key)``; its 64 nibbles (high nibble of each byte first) are the path.
- a leaf hashes as ``H(0x00 || key_hash || H(value))``;
- an internal node hashes as ``H(0x01 || child_0 || ... || child_15)``, an empty child
  being 32 zero bytes;
- a subtree holding exactly one leaf *is* that leaf (no chain of one-child nodes), and the
  empty tree's root is 32 zero bytes.

A :class:`~xinlian.types.proof.StateProof` lists the internal nodes on the key's path from
the root down (each with its 15 other children) and the leaf found at the end of the path,
if any. This module depends only on ``xinlian.types`` and a hash function, so light
clients and the SDK can verify proofs without a node.
"""

from __future__ import annotations

from collections.abc import Callable

from xinlian.types.proof import StateProof

HashFn = Callable[[bytes], bytes]

#: Hash of an empty subtree and root of the empty state.
EMPTY_HASH = bytes(32)
#: Domain prefix of leaf hashes.
LEAF_PREFIX = b"\x00"
#: Domain prefix of internal-node hashes.
INTERNAL_PREFIX = b"\x01"
#: Children per internal node.
RADIX = 16
#: Nibbles in a 32-byte key hash: the maximum depth of the tree.
MAX_DEPTH = 64

_HASH_SIZE = 32


def state_leaf_hash(hash_fn: HashFn, key_hash: bytes, value_hash: bytes) -> bytes:
    """Hash of the leaf for a key hash and value hash."""
    return hash_fn(LEAF_PREFIX + key_hash + value_hash)


def state_internal_hash(hash_fn: HashFn, children: list[bytes]) -> bytes:
    """Hash of an internal node from its 16 child hashes (``EMPTY_HASH`` for empty)."""
    if len(children) != RADIX:
        raise ValueError(f"an internal node has {RADIX} children, got {len(children)}")
    return hash_fn(INTERNAL_PREFIX + b"".join(children))


def nibble_at(key_hash: bytes, depth: int) -> int:
    """The path nibble of ``key_hash`` at ``depth`` (0 = high nibble of the first byte)."""
    byte = key_hash[depth >> 1]
    return byte & 0x0F if depth & 1 else byte >> 4


def _shares_prefix(a: bytes, b: bytes, nibbles: int) -> bool:
    whole = nibbles >> 1
    if a[:whole] != b[:whole]:
        return False
    if nibbles & 1:
        return (a[whole] >> 4) == (b[whole] >> 4)
    return True


def state_root_from_proof(
    hash_fn: HashFn, key: bytes, value: bytes | None, proof: StateProof
) -> bytes | None:
    """Recompute the root implied by ``proof`` for the claim ``state[key] == value``.

    ``value`` None claims that ``key`` is absent. Returns None when the proof cannot
    support the claim at all (wrong shape, a leaf of another key for an inclusion claim,
    a leaf off the key's path, a non-canonical node). Never raises on malformed proofs.
    """
    try:
        return _root_from_proof(hash_fn, key, value, proof)
    except (TypeError, ValueError, IndexError, AttributeError):
        return None


def _root_from_proof(
    hash_fn: HashFn, key: bytes, value: bytes | None, proof: StateProof
) -> bytes | None:
    steps = proof.steps
    depth = len(steps)
    if depth > MAX_DEPTH:
        return None
    key_hash = hash_fn(key)
    leaf_kh = proof.leaf_key_hash
    leaf_vh = proof.leaf_value_hash
    if not isinstance(leaf_kh, bytes) or not isinstance(leaf_vh, bytes):
        return None
    if leaf_kh == b"" and leaf_vh == b"":
        # The path ends at an empty slot: only an exclusion claim fits.
        if value is not None:
            return None
        node = EMPTY_HASH
    elif len(leaf_kh) == _HASH_SIZE and len(leaf_vh) == _HASH_SIZE:
        if value is not None:
            if leaf_kh != key_hash or leaf_vh != hash_fn(value):
                return None
        elif leaf_kh == key_hash or not _shares_prefix(leaf_kh, key_hash, depth):
            # Exclusion through another key's leaf: that leaf must sit on our path.
            return None
        node = hash_fn(LEAF_PREFIX + leaf_kh + leaf_vh)
    else:
        return None
    if depth == 0:
        return node
    for i in range(depth - 1, -1, -1):
        step = steps[i]
        nibble = step.nibble
        siblings = step.children
        if (
            type(nibble) is not int
            or nibble != nibble_at(key_hash, i)
            or len(siblings) != RADIX - 1
        ):
            return None
        for sibling in siblings:
            if not isinstance(sibling, bytes) or len(sibling) != _HASH_SIZE:
                return None
        # The lowest node holds at least two leaves, so a leaf or an empty slot at its
        # bottom always has a non-empty sibling (otherwise the tree would have collapsed
        # it): reject non-canonical shapes.
        if i == depth - 1 and all(s == EMPTY_HASH for s in siblings):
            return None
        children = list(siblings)
        children.insert(nibble, node)
        node = hash_fn(INTERNAL_PREFIX + b"".join(children))
    return node


def verify_state_proof(
    hash_fn: HashFn, root: bytes, key: bytes, value: bytes | None, proof: StateProof
) -> bool:
    """Check that ``proof`` shows ``state[key] == value`` under ``root``.

    Args:
        hash_fn: the chain suite's hash (``suite.hash``: SHA-256 or SM3).
        root: the state root from a trusted (certified) block header.
        key: the state key.
        value: the claimed value, or None to check that ``key`` is absent.
        proof: the proof served by a node.

    Returns:
        True only if the proof is well formed and hashes to ``root`` for this claim;
        never raises on malformed input.
    """
    if not isinstance(root, bytes) or len(root) != _HASH_SIZE:
        return False
    if not isinstance(key, bytes) or (value is not None and not isinstance(value, bytes)):
        return False
    computed = state_root_from_proof(hash_fn, key, value, proof)
    return computed is not None and computed == root
