"""Execution: applying a block's transactions to the state.

Exceptions::

    ExecutionError
     ├── InvalidTransaction   a transaction that may not be in a block at all
     │                        (wrong chain, expired, wrong nonce, unknown sender, ...)
     └── InvalidBlock         a block that breaks the rules (used when validating)
"""

from xinlian.execution.errors import ExecutionError, InvalidBlock, InvalidTransaction
from xinlian.execution.executor import BlockResult, Executor, Mode, QueryError
from xinlian.execution.gas import GAS

__all__ = [
    "GAS",
    "BlockResult",
    "ExecutionError",
    "Executor",
    "InvalidBlock",
    "InvalidTransaction",
    "Mode",
    "QueryError",
]
