"""Execution: applying a block's transactions to the state.

Exceptions::

    ExecutionError
     ├── InvalidTransaction   a transaction that may not be in a block at all; one leaf
     │                        per rule (Expired, UnknownSender, ...: see execution.errors),
     │                        each carrying its protocol.Refusal code
     └── InvalidBlock         a block that breaks the rules (used when validating)
"""

from xinlian.execution.errors import (
    ArgsTooLarge,
    ExecutionError,
    Expired,
    GasLimitOutOfBounds,
    InactiveSender,
    InvalidArgs,
    InvalidBlock,
    InvalidTransaction,
    NonceMismatch,
    PermissionDenied,
    TxTooLarge,
    UnknownSender,
    UnknownTarget,
    WrongChain,
)
from xinlian.execution.executor import BlockResult, Executor, Mode, QueryError
from xinlian.execution.gas import GAS

__all__ = [
    "GAS",
    "ArgsTooLarge",
    "BlockResult",
    "ExecutionError",
    "Executor",
    "Expired",
    "GasLimitOutOfBounds",
    "InactiveSender",
    "InvalidArgs",
    "InvalidBlock",
    "InvalidTransaction",
    "Mode",
    "NonceMismatch",
    "PermissionDenied",
    "QueryError",
    "TxTooLarge",
    "UnknownSender",
    "UnknownTarget",
    "WrongChain",
]
