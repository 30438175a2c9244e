"""The gas schedule and meter.

Gas measures work deterministically; Xinlian charges no fee token (consortium members
are not billed), but every transaction states a gas limit, pays for what it does up to
that limit, and is reverted when it runs out. ``gas_used`` is recorded in each receipt.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinlian.apps.base import CallError
from xinlian.types import TxStatus


@dataclass(frozen=True, slots=True)
class GasSchedule:
    """Gas prices of each kind of work.

    Every byte a block stores is charged: the transaction's own bytes (``tx_byte``, in the
    intrinsic gas, paid even when the call fails), state values and keys written
    (``write_byte``), events (``event_byte``) and the call's output kept in the receipt
    (``output_byte``).
    """

    tx_base: int = 1000
    tx_byte: int = 10
    read: int = 100
    read_byte: int = 1
    write: int = 500
    write_byte: int = 10
    delete: int = 200
    event: int = 200
    event_byte: int = 5
    output_byte: int = 10


GAS = GasSchedule()


class OutOfGas(CallError):  # noqa: N818 - reads as the condition it reports
    """The call used more gas than its limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"out of gas (limit {limit})", TxStatus.OUT_OF_GAS)


class GasMeter:
    """Counts gas used against a limit."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int, used: int = 0) -> None:
        self.limit = limit
        self.used = used

    def charge(self, amount: int) -> None:
        """Add ``amount``; raise ``OutOfGas`` (and cap usage at the limit) when over."""
        self.used += amount
        if self.used > self.limit:
            self.used = self.limit
            raise OutOfGas(self.limit)


def intrinsic_gas(tx_size: int) -> int:
    """Gas every transaction pays before its call runs."""
    return GAS.tx_base + GAS.tx_byte * tx_size
