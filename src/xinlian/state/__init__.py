"""Authenticated world state: a versioned 16-ary sparse Merkle tree over hashed keys.

:class:`StateTree` applies one block's changes at a time into the caller's write batch,
returns the new state root, serves values and inclusion/exclusion proofs for retained
versions, and prunes old versions. Proofs verify offline with
:func:`xinlian.crypto.proofs.verify_state_proof`.
"""

from xinlian.crypto.proofs import EMPTY_HASH, verify_state_proof
from xinlian.state.errors import CorruptStateError, PrunedVersionError, StateError, VersionError
from xinlian.state.tree import DEFAULT_CACHE_NODES, StateTree

__all__ = [
    "DEFAULT_CACHE_NODES",
    "EMPTY_HASH",
    "CorruptStateError",
    "PrunedVersionError",
    "StateError",
    "StateTree",
    "VersionError",
    "verify_state_proof",
]
