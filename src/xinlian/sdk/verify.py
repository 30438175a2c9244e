"""Offline verification: commit certificates, Merkle proofs and state proofs.

Nothing here talks to a node. Given a validator set you trust (from the genesis document,
see :func:`validator_set_from_genesis`), a header and its commit certificate prove a block
final; Merkle paths then prove a transaction, a receipt or a state value against that
header. Every ``verify_*`` function returns normally when the claim holds and raises
:class:`~xinlian.sdk.errors.VerificationError` saying what is wrong otherwise.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from xinlian.codec import encode
from xinlian.crypto import CryptoError, CryptoSuite, get_suite
from xinlian.crypto.certificate import CertificateError
from xinlian.crypto.certificate import verify_commit as _verify_commit
from xinlian.crypto.merkle import verify_merkle_proof
from xinlian.crypto.proofs import verify_state_proof as _verify_state_proof
from xinlian.sdk.errors import VerificationError, XinlianError
from xinlian.sdk.models import TxProof
from xinlian.types import (
    BlockHeader,
    Commit,
    MerkleProof,
    Receipt,
    StateProof,
    Validator,
    ValidatorSet,
)
from xinlian.types.genesis import Genesis

__all__ = [
    "ValidatorChange",
    "block_hash",
    "follow_validator_changes",
    "genesis_hash",
    "load_genesis",
    "suite_of",
    "validator_set_from_genesis",
    "validator_set_hash",
    "verify_commit",
    "verify_receipt_proof",
    "verify_state_proof",
    "verify_tx_inclusion",
    "verify_tx_proof",
]


def suite_of(genesis: Genesis) -> CryptoSuite:
    """The crypto suite a genesis document fixes."""
    try:
        return get_suite(genesis.suite)
    except CryptoError as exc:
        raise VerificationError(str(exc)) from None


def load_genesis(source: str | Path | bytes) -> Genesis:
    """Read a genesis document from a path or from its JSON bytes.

    Raises:
        XinlianError: the file is missing or is not a genesis document.
    """
    try:
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
        return msgspec.json.decode(raw, type=Genesis)
    except OSError as exc:
        raise XinlianError(f"cannot read genesis {source!s}: {exc}") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise XinlianError(f"invalid genesis document: {exc}") from None


def genesis_hash(genesis: Genesis) -> bytes:
    """The chain's identity: the suite hash of the genesis document's canonical bytes
    (the ``prev_hash`` of block 1 and ``genesis_hash`` in ``/v1/status``)."""
    return suite_of(genesis).hash(encode(genesis))


def validator_set_from_genesis(genesis: Genesis) -> ValidatorSet:
    """The validator set of the first block, as named by the genesis document."""
    try:
        return ValidatorSet(
            [Validator(bytes.fromhex(v.public_key), v.power, v.name) for v in genesis.validators]
        )
    except ValueError as exc:
        raise VerificationError(f"genesis validator key is not hex: {exc}") from None


def validator_set_hash(suite: CryptoSuite, validators: ValidatorSet) -> bytes:
    """The hash headers carry as ``validators_hash``."""
    return suite.hash(encode(validators))


def block_hash(suite: CryptoSuite, header: BlockHeader) -> bytes:
    """A block's id: the suite hash of its header's canonical bytes."""
    return suite.hash(encode(header))


def verify_commit(
    suite: CryptoSuite, header: BlockHeader, commit: Commit, validator_set: ValidatorSet
) -> int:
    """Check that ``commit`` certifies ``header`` under ``validator_set``: the header names
    the set, the commit is for this header, and distinct validators holding more than two
    thirds of the voting power signed its precommit (``xinlian.crypto.certificate``).

    Returns:
        The voting power that signed.

    Raises:
        VerificationError: naming the first problem found.
    """
    try:
        return _verify_commit(suite, header, commit, validator_set)
    except CertificateError as exc:
        raise VerificationError(str(exc)) from None


class ValidatorChange(msgspec.Struct, frozen=True):
    """A block that changed the validator set: its header, its commit certificate (by the
    set before) and the new set that the header's ``next_validators_hash`` names."""

    header: BlockHeader
    commit: Commit
    validators: ValidatorSet


def follow_validator_changes(
    suite: CryptoSuite, trusted: ValidatorSet, changes: list[ValidatorChange]
) -> dict[bytes, ValidatorSet]:
    """Every validator set reachable from ``trusted`` by certified changes, by hash.

    Changes are applied in height order: a change counts only if the set trusted at that
    point certified its block and the new set hashes to the header's
    ``next_validators_hash``. A change signed by a set not yet trusted is refused.

    Raises:
        VerificationError: a change is out of order, not certified, or names another set.
    """
    current = trusted
    known = {validator_set_hash(suite, trusted): trusted}
    last_height = 0
    for change in sorted(changes, key=lambda c: c.header.height):
        header = change.header
        if header.height <= last_height:
            raise VerificationError(f"validator change at height {header.height} is repeated")
        last_height = header.height
        if header.validators_hash != validator_set_hash(suite, current):
            raise VerificationError(
                f"validator change at height {header.height} is signed by a set that the "
                "previous changes do not lead to"
            )
        try:
            verify_commit(suite, header, change.commit, current)
        except VerificationError as exc:
            raise VerificationError(
                f"validator change at height {header.height} is not certified: {exc}"
            ) from None
        new_hash = validator_set_hash(suite, change.validators)
        if new_hash != header.next_validators_hash:
            raise VerificationError(
                f"validator change at height {header.height}: the new set is not the one "
                "the header names"
            )
        current = change.validators
        known[new_hash] = current
    return known


def verify_tx_proof(
    suite: CryptoSuite, header: BlockHeader, tx_hash: bytes, proof: MerkleProof
) -> None:
    """Check that the transaction ``tx_hash`` is in the block of ``header`` at
    ``proof.index`` (a Merkle path to ``header.tx_root``)."""
    if not verify_merkle_proof(suite.hash, header.tx_root, tx_hash, proof):
        raise VerificationError(
            f"transaction {tx_hash.hex()[:16]}… is not proven in block "
            f"{header.height} (tx proof does not reach tx_root)"
        )


def verify_receipt_proof(
    suite: CryptoSuite, header: BlockHeader, receipt: Receipt, proof: MerkleProof
) -> None:
    """Check that ``receipt`` (its canonical bytes) is in the block of ``header`` at
    ``proof.index`` (a Merkle path to ``header.receipts_root``)."""
    if not verify_merkle_proof(suite.hash, header.receipts_root, encode(receipt), proof):
        raise VerificationError(
            f"receipt of {receipt.tx_hash.hex()[:16]}… is not proven in "
            f"block {header.height} (proof does not reach receipts_root)"
        )


def verify_state_proof(
    suite: CryptoSuite,
    state_root: BlockHeader | bytes,
    key: bytes,
    value: bytes | None,
    proof: StateProof,
) -> None:
    """Check that ``state[key] == value`` (``None``: the key is absent) under a state root
    (given directly or as the header that carries it)."""
    root = state_root.state_root if isinstance(state_root, BlockHeader) else state_root
    if not _verify_state_proof(suite.hash, root, key, value, proof):
        claim = "absence" if value is None else "value"
        raise VerificationError(
            f"state proof of the {claim} of key {key!r} does not match "
            f"state root {root.hex()[:16]}…"
        )


def verify_tx_inclusion(
    suite: CryptoSuite,
    validator_set: ValidatorSet,
    raw_tx: bytes,
    receipt: Receipt,
    proof: TxProof,
    chain_id: str | None = None,
) -> bytes:
    """Check a self-contained transaction proof, offline.

    Verifies that the proof's header is certified by ``validator_set`` (and belongs to
    ``chain_id`` if given), that the transaction with canonical bytes ``raw_tx`` and
    ``receipt`` are both in that block, and that the receipt belongs to the transaction.

    Returns:
        The transaction's hash.
    """
    header = proof.header
    if chain_id is not None and header.chain_id != chain_id:
        raise VerificationError(f"header is of chain {header.chain_id!r}, not {chain_id!r}")
    if block_hash(suite, header) != proof.block_hash:
        raise VerificationError("the proof's block hash is not its header's hash")
    verify_commit(suite, header, proof.commit, validator_set)
    tx_hash = suite.hash(raw_tx)
    if receipt.tx_hash != tx_hash:
        raise VerificationError("the receipt is for another transaction")
    if proof.tx_proof.index != proof.receipt_proof.index:
        raise VerificationError("transaction and receipt proofs are for different positions")
    verify_tx_proof(suite, header, tx_hash, proof.tx_proof)
    verify_receipt_proof(suite, header, receipt, proof.receipt_proof)
    return tx_hash
