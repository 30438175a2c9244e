"""Tree nodes, child references and their byte encodings.

A *child reference* is a ``bytes`` object:

- ``hash (32) || version (8, big-endian)`` for an internal node, stored under
  ``P n <version> <depth> <path>``;
- ``hash (32) || version (8) || key_hash (32)`` for a leaf, whose record (key and value)
  is stored under ``P l <version> <key_hash>``. Leaves are keyed by key hash, not by
  position, so a leaf that moves up when its siblings are deleted keeps its record.

Keeping the key hash of leaf children inside their parent lets a batch update decide
between "update this leaf" and "split this slot" without reading the leaf. References
are plain bytes, and cached nodes too, so the garbage collector never scans the cache.

An internal node is stored as the msgpack array of its 16 child references (``nil`` for
empty children); its own hash lives in its parent. In the cache it is prefixed with the
concatenation of its child hashes, so rehashing after a change costs one splice.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from xinlian.crypto.proofs import EMPTY_HASH, INTERNAL_PREFIX, RADIX
from xinlian.state.errors import CorruptStateError, StateError

HashFn = Callable[[bytes], bytes]

#: A child reference (see the module docstring); None stands for an empty subtree.
Ref = bytes
#: A node's children while it is being rebuilt: its hash blob (the 16 child hashes
#: concatenated, 512 bytes, ready to be hashed) followed by its 16 child references.
Children = list[bytes | None]

HASH_SIZE = 32
INTERNAL_REF_SIZE = 40
LEAF_REF_SIZE = 72
BLOB_SIZE = 16 * HASH_SIZE
_MAX_VERSION = 2**64 - 1
#: Terminates the hex path in a node's store key.
PATH_END = b"\xff"

_node_encoder = msgspec.msgpack.Encoder()
_node_decoder = msgspec.msgpack.Decoder(list[bytes | None])

#: Encode the 16 child references of a node (a list or a slice of ``Children``).
encode_refs = _node_encoder.encode
#: Decode what :data:`encode_refs` made (unchecked: for trusted cache entries).
decode_refs = _node_decoder.decode


def internal_hash(hash_fn: HashFn, refs: list[Ref | None]) -> bytes:
    """``H(0x01 || child_0 || ... || child_15)`` with 32 zero bytes for empty children."""
    return hash_fn(INTERNAL_PREFIX + hash_blob(refs))


def hash_blob(refs: list[Ref | None]) -> bytes:
    """The 16 child hashes of a node concatenated (zero bytes for empty children)."""
    return b"".join([EMPTY_HASH if c is None else c[:32] for c in refs])


def encode_internal(refs: list[Ref | None]) -> bytes:
    """Bytes of an internal node as stored: the msgpack array of its 16 references."""
    return _node_encoder.encode(refs)


def decode_internal(data: bytes) -> list[Ref | None]:
    """The 16 child references of a stored node; ``CorruptStateError`` on bad bytes."""
    try:
        refs = _node_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CorruptStateError(f"internal node record is corrupt: {exc}") from None
    if len(refs) != RADIX:
        raise CorruptStateError(f"internal node record has {len(refs)} children, not 16")
    for c in refs:
        if c is not None and len(c) != INTERNAL_REF_SIZE and len(c) != LEAF_REF_SIZE:
            raise CorruptStateError("internal node record holds a malformed child reference")
    return refs


def cache_entry(data: bytes) -> bytes:
    """The node cache's form of a stored node: hash blob followed by the stored bytes.

    A single ``bytes`` object is invisible to the garbage collector, which would
    otherwise scan every cached node once; decoding it again costs well under 1 µs.
    """
    return hash_blob(decode_internal(data)) + data


def check_ref(data: bytes) -> Ref | None:
    """Validate a stored root reference (empty bytes = empty tree)."""
    if not data:
        return None
    if len(data) != INTERNAL_REF_SIZE and len(data) != LEAF_REF_SIZE:
        raise CorruptStateError(f"root record has a bad length ({len(data)} bytes)")
    return data


def ref_version(ref: Ref) -> int:
    """The version a referenced node or leaf was created at."""
    return int.from_bytes(ref[32:40], "big")


def ref_key_hash(ref: Ref) -> bytes | None:
    """The key hash of a leaf reference, None for an internal node."""
    return ref[40:] if len(ref) == LEAF_REF_SIZE else None


def encode_leaf(key: bytes, value: bytes) -> bytes:
    """Bytes of a leaf record: 4-byte key length, key, value."""
    return len(key).to_bytes(4, "big") + key + value


def decode_leaf(data: bytes) -> tuple[bytes, bytes]:
    """Inverse of :func:`encode_leaf`: ``(key, value)``."""
    if len(data) < 4:
        raise CorruptStateError("leaf record is truncated")
    n = int.from_bytes(data[:4], "big")
    if 4 + n > len(data):
        raise CorruptStateError("leaf record is truncated")
    return data[4 : 4 + n], data[4 + n :]


def path_bytes(key_hash: bytes, depth: int) -> bytes:
    """The store-key form of the path of a node at ``depth`` on ``key_hash``'s path.

    The first ``depth`` nibbles as lowercase hex digits, then ``0xff``. In this form a
    node sorts after all nodes below it and before its next sibling, so the post-order
    in which an update creates nodes is key order, which RocksDB inserts fastest.
    """
    return key_hash.hex()[:depth].encode() + PATH_END


def version_bytes(version: int) -> bytes:
    """Big-endian 8-byte version, so store keys sort by version."""
    if type(version) is not int or not 0 <= version <= _MAX_VERSION:
        raise StateError(f"version must be an integer in 0..2^64-1, got {version!r}")
    return version.to_bytes(8, "big")
