"""The execution package's exception tree.

::

    ExecutionError
     ├── InvalidTransaction        a transaction that may not be in a block at all
     │    ├── WrongChain            another chain's chain id
     │    ├── TxTooLarge            over the chain's max_tx_bytes
     │    ├── Expired               its expiry height has passed
     │    ├── GasLimitOutOfBounds   above the chain's maximum or below the intrinsic gas
     │    ├── UnknownSender         the key is not registered to any organisation
     │    ├── InactiveSender        the account or its organisation is deactivated
     │    ├── NonceMismatch         not the sender's next nonce
     │    ├── UnknownTarget         no such app or method
     │    ├── PermissionDenied      the sender lacks the method's role
     │    ├── ArgsTooLarge          the arguments exceed the method's limit
     │    └── InvalidArgs           the arguments do not decode or break static rules
     └── InvalidBlock              a block that breaks a block rule
"""

from __future__ import annotations

from xinlian.protocol import Refusal


class ExecutionError(Exception):
    """Base of execution errors."""


class InvalidTransaction(ExecutionError):  # noqa: N818 - a domain name, like InvalidBlock
    """A transaction that may not be included in a block (it consumes no nonce).

    ``refusal`` is the code clients get (each leaf has its own; see
    :class:`xinlian.protocol.Refusal`), ``reason`` the same as a plain string. The message
    is the human-readable explanation.
    """

    refusal: Refusal = Refusal.REFUSED

    def __init__(self, message: str, refusal: Refusal | None = None) -> None:
        super().__init__(message)
        if refusal is not None:
            self.refusal = refusal

    @property
    def reason(self) -> str:
        """The refusal code as its wire string."""
        return self.refusal.value


class WrongChain(InvalidTransaction):
    """The transaction names another chain."""

    refusal = Refusal.WRONG_CHAIN


class TxTooLarge(InvalidTransaction):
    """The transaction is over the chain's ``max_tx_bytes``."""

    refusal = Refusal.TOO_LARGE


class Expired(InvalidTransaction):
    """The transaction's expiry height has passed."""

    refusal = Refusal.EXPIRED


class GasLimitOutOfBounds(InvalidTransaction):
    """The gas limit is above the chain's maximum or below the intrinsic gas."""

    refusal = Refusal.GAS_LIMIT_OUT_OF_BOUNDS


class UnknownSender(InvalidTransaction):
    """The sender's key is not registered to any organisation."""

    refusal = Refusal.UNKNOWN_SENDER


class InactiveSender(InvalidTransaction):
    """The sender's account, or its organisation, is deactivated."""

    refusal = Refusal.INACTIVE_SENDER


class NonceMismatch(InvalidTransaction):
    """Not the sender's next nonce: ``nonce_too_low`` (already used) unless built with
    ``nonce_too_high``, so that clients get the mempool's codes for the same fault."""

    refusal = Refusal.NONCE_TOO_LOW


class UnknownTarget(InvalidTransaction):
    """No such app, or no such (writing) method."""

    refusal = Refusal.UNKNOWN_TARGET


class PermissionDenied(InvalidTransaction):
    """The sender lacks the role the method needs."""

    refusal = Refusal.PERMISSION_DENIED


class ArgsTooLarge(InvalidTransaction):
    """The encoded arguments exceed the method's (or a contract call's) limit."""

    refusal = Refusal.ARGS_TOO_LARGE


class InvalidArgs(InvalidTransaction):
    """The arguments do not decode into the method's record, or break its static rules."""

    refusal = Refusal.INVALID_ARGS


class InvalidBlock(ExecutionError):  # noqa: N818
    """A block that contains an invalid transaction or breaks a block rule."""
