"""The contracts package's exception tree.

Both are ``CallError``s, so execution records them in the receipt and reverts the call::

    CallError (apps.base)
     ├── ContractRejected   deploy time: the source breaks a rule (status INVALID_ARGS)
     └── ContractFault      run time: a limit was hit or the contract raised (status FAILED)
"""

from __future__ import annotations

from xinlian.apps.base import CallError
from xinlian.types import TxStatus


class ContractRejected(CallError):  # noqa: N818 - reads as what happened to the source
    """The contract source was refused when checked at deploy time."""

    def __init__(self, message: str, line: int = 0) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"contract refused: {where}{message}", TxStatus.INVALID_ARGS)
        self.line = line


class ContractFault(CallError):  # noqa: N818 - like ContractRejected
    """The contract stopped at run time (a limit, a failed ``require``, a Python error)."""

    def __init__(self, message: str, status: TxStatus = TxStatus.FAILED) -> None:
        super().__init__(message, status)
