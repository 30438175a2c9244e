"""Block ids, validator-set hashes and commit certificates.

A block's id is the suite hash of its header's canonical bytes; a header names its
validator set by the suite hash of that set's canonical bytes. A commit certificate
proves a block final when distinct validators holding more than two thirds of the set's
voting power signed its precommit. Nodes (accepting blocks from peers) and the SDK
(verifying offline) both apply these rules from here.
"""

from __future__ import annotations

from collections.abc import Callable

from xinlian.codec import encode
from xinlian.crypto import CryptoError, CryptoSuite
from xinlian.protocol.errors import ProtocolError
from xinlian.types import BlockHeader, Commit, ValidatorSet, Vote, VoteType

__all__ = ["CertificateError", "block_hash", "block_id", "validator_set_hash", "verify_commit"]


def block_id(hash_fn: Callable[[bytes], bytes], header: BlockHeader) -> bytes:
    """A block's id under ``hash_fn`` (a suite's hash): the hash of the header's canonical
    bytes. For callers that hold the hash function only (the ledger)."""
    return hash_fn(encode(header))


def block_hash(suite: CryptoSuite, header: BlockHeader) -> bytes:
    """A block's id: the suite hash of its header's canonical bytes."""
    return block_id(suite.hash, header)


def validator_set_hash(suite: CryptoSuite, validators: ValidatorSet) -> bytes:
    """The hash headers carry as ``validators_hash`` / ``next_validators_hash``."""
    return suite.hash(encode(validators))


class CertificateError(ProtocolError, CryptoError):
    """A commit certificate that does not prove its block final (also a ``CryptoError``,
    as it was before this rule moved here)."""


def verify_commit(
    suite: CryptoSuite, header: BlockHeader, commit: Commit, validator_set: ValidatorSet
) -> int:
    """Check that ``commit`` certifies ``header`` under ``validator_set``.

    The header must name ``validator_set`` (its ``validators_hash``); the commit must be
    for this header's hash and height; every signature must be a valid precommit
    ``Vote(chain_id, PRECOMMIT, height, round, block_hash)`` by a distinct validator of the
    set; and the signers must hold more than two thirds of the total voting power.

    Returns:
        The voting power that signed.

    Raises:
        CertificateError: naming the first problem found.
    """
    expected_vs = validator_set_hash(suite, validator_set)
    if header.validators_hash != expected_vs:
        raise CertificateError(
            f"header {header.height} names validator set {header.validators_hash.hex()[:16]}"
            f"…, not the trusted set {expected_vs.hex()[:16]}… (validator-set change?)"
        )
    block_id = block_hash(suite, header)
    if commit.block_hash != block_id:
        raise CertificateError(
            f"commit is for block {commit.block_hash.hex()[:16]}…, "
            f"not for this header ({block_id.hex()[:16]}…)"
        )
    if commit.height != header.height:
        raise CertificateError(
            f"commit is for height {commit.height}, header is at {header.height}"
        )
    total = validator_set.total_power
    if total <= 0:
        raise CertificateError("the validator set has no voting power")
    message = encode(
        Vote(header.chain_id, int(VoteType.PRECOMMIT), header.height, commit.round, block_id)
    )
    validators = validator_set.validators
    seen: set[int] = set()
    signed = 0
    for sig in commit.signatures:
        index = sig.validator_index
        if not 0 <= index < len(validators):
            raise CertificateError(
                f"commit names validator index {index}, the set has {len(validators)}"
            )
        if index in seen:
            raise CertificateError(
                f"validator {index} ({validators[index].name}) signed the commit twice"
            )
        seen.add(index)
        validator = validators[index]
        if not suite.verify(validator.public_key, message, sig.signature):
            raise CertificateError(
                f"bad precommit signature of validator {index} "
                f"({validator.name}) on block {header.height}"
            )
        signed += validator.power
    if signed * 3 <= total * 2:
        raise CertificateError(
            f"commit carries {signed} of {total} voting power; more than two thirds is required"
        )
    return signed
