"""Proof records: Merkle paths to block roots and to the state root."""

from msgspec import Struct

from xinlian.types.ints import U64, Nibble


class MerkleProof(Struct, array_like=True, frozen=True):
    """Path of a leaf to the root of a binary Merkle tree (RFC 6962 shape).

    Attributes:
        index: the leaf's position.
        size: number of leaves in the tree.
        siblings: sibling hashes from the leaf level upward.
    """

    index: U64
    size: U64
    siblings: list[bytes]


class StateProofStep(Struct, array_like=True, frozen=True):
    """One internal node on the path: the 16 child hashes, with the path's child elided."""

    nibble: Nibble
    children: list[bytes]


class StateProof(Struct, array_like=True, frozen=True):
    """Inclusion or exclusion proof of a key in the state tree (see ``xinlian.crypto.proofs``).

    Attributes:
        steps: internal nodes from the root down.
        leaf_key_hash: the key hash of the leaf found at the end of the path (empty if the
            path ended at an empty slot).
        leaf_value_hash: that leaf's value hash (empty if none).
    """

    steps: list[StateProofStep]
    leaf_key_hash: bytes
    leaf_value_hash: bytes
