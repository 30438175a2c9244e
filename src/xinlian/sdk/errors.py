"""The SDK's exceptions: one tree under :class:`XinlianError`.

::

    XinlianError
     ├── ApiError              the node answered with an error (problem+json)
     │    └── NotFoundError    ... 404: no such transaction, block, key
     ├── TransportError        the node could not be reached or the connection failed
     ├── ResponseError         the node answered something the SDK cannot understand
     ├── VerificationError     a proof, header or commit certificate does not check out
     ├── TxFailedError         a committed transaction's receipt is not OK
     └── TxTimeoutError        a transaction was not committed in time (also a TimeoutError)
"""

from __future__ import annotations

from xinlian.protocol import Refusal

__all__ = [
    "ApiError",
    "NotFoundError",
    "Refusal",
    "ResponseError",
    "TransportError",
    "TxFailedError",
    "TxTimeoutError",
    "VerificationError",
    "XinlianError",
]


class XinlianError(Exception):
    """Base of every error the SDK raises on purpose."""


class ApiError(XinlianError):
    """The node refused a request; carries the problem document's fields.

    Attributes:
        status: the HTTP status code.
        reason: the machine-readable reason code: a :class:`~xinlian.protocol.Refusal`
            for a transaction refusal (``Refusal.EXPIRED``, equal to ``"expired"``), else the
            string as the node sent it (``"bad_body"``, or a refusal code newer than this
            SDK), ``""`` when the node gave none.
        detail: the human-readable explanation.
        title: the problem's short title (``"Bad Request"``).
    """

    def __init__(self, status: int, reason: str, detail: str, title: str = "") -> None:
        self.status = status
        self.reason: Refusal | str = Refusal.parse(reason)
        self.detail = detail
        self.title = title
        label = reason or title or "error"
        where = f" (HTTP {status})" if status else ""
        super().__init__(f"{label}: {detail}{where}" if detail else f"{label}{where}")

    @property
    def refusal(self) -> Refusal | None:
        """The refusal code when ``reason`` is one this SDK knows, else None."""
        return self.reason if isinstance(self.reason, Refusal) else None


class NotFoundError(ApiError):
    """The node does not know the requested transaction, block, account or key (404)."""


class TransportError(XinlianError):
    """The node could not be reached, or the connection broke (the request may or may not
    have had an effect: a transaction can be looked up by its hash afterwards)."""


class ResponseError(XinlianError):
    """The node's answer is not what the API contract describes."""


class VerificationError(XinlianError):
    """A proof, block header or commit certificate failed verification."""


class TxFailedError(XinlianError):
    """A transaction was committed but its receipt reports failure.

    Attributes:
        tx_hash: the transaction's hash.
        status: the receipt's status code (a ``TxStatus`` value).
        error: the receipt's error message.
    """

    def __init__(self, tx_hash: bytes, status: int, error: str) -> None:
        self.tx_hash = tx_hash
        self.status = status
        self.error = error
        super().__init__(f"transaction {tx_hash.hex()} failed (status {status}): {error}")


class TxTimeoutError(XinlianError, TimeoutError):
    """A transaction was not seen committed before the deadline.

    It may still commit later (or have been dropped): look it up with ``get_tx(hash)``.

    Attributes:
        tx_hash: the transaction's hash.
        last_status: what the node last said about it (``"pending"``, ``"unknown"``).
    """

    def __init__(self, tx_hash: bytes, timeout: float, last_status: str) -> None:
        self.tx_hash = tx_hash
        self.timeout = timeout
        self.last_status = last_status
        super().__init__(
            f"transaction {tx_hash.hex()} not committed within {timeout:g}s "
            f"(last seen: {last_status})"
        )
