"""Offline verification: commit certificates, Merkle proofs and state proofs.

Nothing here talks to a node. Given a validator set you trust (from the genesis document,
see :func:`validator_set_from_genesis`), a header and its commit certificate prove a block
final; Merkle paths then prove a transaction, a receipt or a state value against that
header. Every ``verify_*`` function returns normally when the claim holds and raises
:class:`~xinlian.sdk.errors.VerificationError` saying what is wrong otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from xinlian.codec import encode, to_builtins
from xinlian.crypto import CryptoError, CryptoSuite, get_suite
from xinlian.crypto.merkle import verify_merkle_proof
from xinlian.crypto.proofs import verify_state_proof as _verify_state_proof
from xinlian.protocol import ProtocolError
from xinlian.protocol.blocks import CertificateError, block_hash, validator_set_hash
from xinlian.protocol.blocks import verify_commit as _verify_commit
from xinlian.protocol.genesis import genesis_hash as _genesis_hash
from xinlian.protocol.genesis import genesis_validator_set, parse_genesis
from xinlian.sdk.errors import VerificationError, XinlianError
from xinlian.sdk.models import TxProof
from xinlian.types import (
    BlockHeader,
    Commit,
    MerkleProof,
    Receipt,
    StateProof,
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
    """Read and check a genesis document from a path or from its JSON bytes (the same
    checks a node applies: :func:`xinlian.protocol.genesis.parse_genesis`).

    Raises:
        XinlianError: the file is missing or is not a valid genesis document.
    """
    try:
        raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError as exc:
        raise XinlianError(f"cannot read genesis {source!s}: {exc}") from None
    try:
        return parse_genesis(raw)
    except ProtocolError as exc:
        raise XinlianError(str(exc)) from None


def genesis_hash(genesis: Genesis) -> bytes:
    """The chain's identity: the suite hash of the genesis document's canonical bytes
    (the ``prev_hash`` of block 1 and ``genesis_hash`` in ``/v1/status``)."""
    return _genesis_hash(suite_of(genesis), genesis)


def validator_set_from_genesis(genesis: Genesis) -> ValidatorSet:
    """The validator set of the first block, as named by the genesis document."""
    try:
        return genesis_validator_set(genesis)
    except ValueError as exc:
        raise VerificationError(f"genesis validator key is not hex: {exc}") from None


def verify_commit(
    suite: CryptoSuite, header: BlockHeader, commit: Commit, validator_set: ValidatorSet
) -> int:
    """Check that ``commit`` certifies ``header`` under ``validator_set``: the header names
    the set, the commit is for this header, and distinct validators holding more than two
    thirds of the voting power signed its precommit (``xinlian.protocol.blocks``).

    Returns:
        The voting power that signed.

    Raises:
        VerificationError: naming the first problem found.
    """
    try:
        return _verify_commit(suite, header, commit, validator_set)
    except CertificateError as exc:
        raise VerificationError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class ValidatorChange:
    """A certified validator-set change: the header of the last block signed by the old
    set (its ``next_validators_hash`` names the new set), that block's commit
    certificate, and the new set, which signs from the next height on."""

    header: BlockHeader
    commit: Commit
    validators: ValidatorSet

    def to_json(self) -> dict[str, Any]:
        """The JSON form (as in ``/v1/validators/changes`` and evidence receipts)."""
        return {
            "header": to_builtins(self.header),
            "commit": to_builtins(self.commit),
            "validators": [to_builtins(v) for v in self.validators.validators],
        }


def follow_validator_changes(
    suite: CryptoSuite,
    chain_id: str,
    start: ValidatorSet,
    changes: Sequence[ValidatorChange],
    before: int | None = None,
) -> ValidatorSet:
    """The validator set in force after ``changes``, starting from the trusted ``start``.

    Each change must be of this chain, strictly after the previous one (and below height
    ``before`` when given); its header must be certified by the set in force (more than
    two thirds of its power signed the commit), it must name a change, and the new set
    must be the one the header's ``next_validators_hash`` names.

    Raises:
        VerificationError: ``change <i> at height <h>: <what is wrong>``.
    """
    in_force, last = start, 0
    for i, change in enumerate(changes):
        h = change.header
        where = f"change {i} at height {h.height}"
        if h.chain_id != chain_id:
            raise VerificationError(f"{where}: header is of chain {h.chain_id!r}")
        if not last < h.height or (before is not None and h.height >= before):
            limit = "" if before is None else f" and before {before}"
            raise VerificationError(
                f"{where}: changes must be in height order, after {last}{limit}"
            )
        try:
            verify_commit(suite, h, change.commit, in_force)
        except VerificationError as exc:
            raise VerificationError(f"{where}: {exc}") from None
        if h.next_validators_hash == h.validators_hash:
            raise VerificationError(f"{where}: the header names no change")
        if validator_set_hash(suite, change.validators) != h.next_validators_hash:
            raise VerificationError(
                f"{where}: the new validator set is not the one the header names next"
            )
        if change.validators.total_power <= 0:
            raise VerificationError(f"{where}: the new set has no voting power")
        in_force, last = change.validators, h.height
    return in_force


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


#: The ``type`` field of each kind of signed consensus message (votes: ``VoteType``).
_STEP_TYPES = {"prevote": 1, "precommit": 2, "proposal": 32}


def equivocation_problem(
    suite: CryptoSuite,
    chain_id: str,
    kind: str,
    height: int,
    round_: int,
    validator_index: int,
    validator: bytes,
    messages: Sequence[tuple[bytes, bytes, bytes]],
    validators: ValidatorSet,
) -> str:
    """Why an accusation of equivocation does not hold ("" when it does).

    ``messages`` are the two (signed body, signature, block hash) the accused is said to
    have signed; ``validators`` the set that signs ``height``. A vote body is
    ``[chain_id, type, height, round, block_hash]`` and a proposal body adds ``pol_round``
    (canonical msgpack arrays).
    """
    step = _STEP_TYPES.get(kind)
    if step is None:
        return f"unknown kind {kind!r}"
    members = validators.validators
    if validator_index >= len(members) or members[validator_index].public_key != validator:
        return f"the key is not validator {validator_index} of the set that signs {height}"
    if len(messages) != 2 or messages[0][0] == messages[1][0]:
        return "two different signed bodies are needed"
    hashes = []
    for n, (body, signature, claimed) in enumerate(messages, 1):
        try:
            fields = msgspec.msgpack.decode(body)
        except msgspec.DecodeError:
            return f"message {n} is not a canonical body"
        if not isinstance(fields, list) or len(fields) != (6 if kind == "proposal" else 5):
            return f"message {n} is not a {kind}"
        if fields[:4] != [chain_id, step, height, round_]:
            return f"message {n} is not a {kind} of this chain at height {height}, round {round_}"
        if fields[4] != claimed:
            return f"message {n} names another block than the one claimed"
        try:
            ok = suite.verify(validator, body, signature)
        except CryptoError:
            ok = False
        if not ok:
            return f"message {n}'s signature does not verify for the validator's key"
        hashes.append(claimed)
    if hashes[0] == hashes[1]:
        return "both messages are for the same block: no conflict"
    return ""
