"""The genesis document: parsing it, checking it, its hash and the validator set it names.

Nodes and clients read the same document with :func:`parse_genesis`, so a client never
trusts a genesis a node would refuse.
"""

from __future__ import annotations

import msgspec

from xinlian.codec import encode
from xinlian.crypto import CryptoError, CryptoSuite, get_suite
from xinlian.protocol.errors import ProtocolError
from xinlian.types import Validator, ValidatorEntry, ValidatorSet
from xinlian.types.genesis import Genesis

__all__ = [
    "genesis_hash",
    "genesis_validator_set",
    "genesis_validators",
    "parse_genesis",
]


def parse_genesis(raw: bytes) -> Genesis:
    """Parse and check a genesis JSON document: well formed, at least one validator, a
    known crypto suite and valid validator keys.

    Raises:
        ProtocolError: saying what is wrong.
    """
    try:
        genesis = msgspec.json.decode(raw, type=Genesis)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProtocolError(f"invalid genesis document: {exc}") from None
    if not genesis.validators:
        raise ProtocolError("genesis has no validators")
    try:
        get_suite(genesis.suite)
    except CryptoError as exc:
        raise ProtocolError(f"invalid genesis document: {exc}") from None
    try:
        genesis_validators(genesis)
    except ValueError as exc:
        raise ProtocolError(f"invalid genesis document: {exc}") from None
    return genesis


def genesis_hash(suite: CryptoSuite, genesis: Genesis) -> bytes:
    """The chain's identity: the suite hash of the genesis document's canonical bytes
    (the ``prev_hash`` of block 1)."""
    return suite.hash(encode(genesis))


def genesis_validator_set(genesis: Genesis) -> ValidatorSet:
    """The header form of the first block's validator set (without transport keys)."""
    return ValidatorSet(
        [Validator(bytes.fromhex(v.public_key), v.power, v.name) for v in genesis.validators]
    )


def genesis_validators(genesis: Genesis) -> list[ValidatorEntry]:
    """The validator entries a genesis document names (transport key defaults to the
    signing key, which only an ``ed25519`` chain allows)."""
    entries: list[ValidatorEntry] = []
    for v in genesis.validators:
        public_key = bytes.fromhex(v.public_key)
        if v.p2p_key:
            p2p_key = bytes.fromhex(v.p2p_key)
        elif genesis.suite == "ed25519":
            p2p_key = public_key
        else:
            raise ValueError(f"validator {v.name!r} needs a p2p_key on a {genesis.suite} chain")
        if len(p2p_key) != 32:
            raise ValueError(f"validator {v.name!r}: p2p_key is not a 32-byte Ed25519 key")
        entries.append(ValidatorEntry(public_key, v.power, v.name, p2p_key))
    return entries
