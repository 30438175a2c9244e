"""Core data records: transactions, blocks, receipts, votes, commits, proofs.

Every record is a frozen ``msgspec.Struct`` encoded as a fixed-order array, so its
canonical bytes (see :mod:`xinlian.codec`) do not depend on field names. Integers are
unsigned and at most 64 bits unless a field says otherwise; times are milliseconds
since the Unix epoch (UTC).
"""

from xinlian.types.block import Block, BlockHeader, Commit, CommitSig, Vote, VoteType
from xinlian.types.proof import MerkleProof, StateProof, StateProofStep
from xinlian.types.receipt import Event, Receipt, TxStatus
from xinlian.types.tx import SignedTransaction, Transaction, TxEnvelope
from xinlian.types.validator import Validator, ValidatorEntry, ValidatorSet

__all__ = [
    "Block",
    "BlockHeader",
    "Commit",
    "CommitSig",
    "Event",
    "MerkleProof",
    "Receipt",
    "SignedTransaction",
    "StateProof",
    "StateProofStep",
    "Transaction",
    "TxEnvelope",
    "TxStatus",
    "Validator",
    "ValidatorEntry",
    "ValidatorSet",
    "Vote",
    "VoteType",
]
