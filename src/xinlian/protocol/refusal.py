"""Why a node refuses a transaction: one code per rule, shared by node and clients.

A refusal is a :class:`Refusal` member. Its value is the ``reason`` string of the
problem document a node answers (``{"reason": "expired", ...}``), so the enum and the
wire agree by construction; :data:`HTTP_STATUS` gives each code its one HTTP status.
A client parses a reason with :meth:`Refusal.parse`, which keeps an unknown string (a
code a newer node added) as it is instead of failing.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["HTTP_STATUS", "Refusal"]


class Refusal(StrEnum):
    """A refusal reason code; the value is the string on the wire."""

    # Decoding and authentication (stateless, checked once per node).
    TOO_LARGE = "too_large"
    """The transaction is over the chain's ``max_tx_bytes``."""
    MALFORMED = "malformed"
    """The bytes are not a canonical ``SignedTransaction``."""
    WRONG_CHAIN = "wrong_chain"
    """``chain_id`` is another chain's."""
    BAD_SIGNATURE = "bad_signature"
    """The signature does not verify for ``sender`` (or ``sender`` is not a key)."""
    # The pool: duplicates, nonce ordering, capacity.
    DUPLICATE = "duplicate"
    """The same transaction is already pending."""
    NONCE_TOO_LOW = "nonce_too_low"
    """The nonce is already used."""
    NONCE_TOO_HIGH = "nonce_too_high"
    """The nonce is further ahead of the sender's next one than the pool allows."""
    NONCE_TAKEN = "nonce_taken"
    """Another pending transaction of the sender has this nonce."""
    SENDER_LIMIT = "sender_limit"
    """The sender already has as many pending transactions as the pool allows."""
    FULL = "full"
    """The pool is full; retry later."""
    # Admission against committed state (the executor's checks).
    EXPIRED = "expired"
    """The transaction's ``expiry`` height has passed."""
    GAS_LIMIT_OUT_OF_BOUNDS = "gas_limit_out_of_bounds"
    """The gas limit is above the chain's maximum or below the intrinsic gas."""
    UNKNOWN_SENDER = "unknown_sender"
    """The sender's key is not registered to any organisation."""
    INACTIVE_SENDER = "inactive_sender"
    """The sender's account, or its organisation, is deactivated."""
    # The call's static rules (checked on admission too).
    UNKNOWN_TARGET = "unknown_target"
    """No such app, or no such (writing) method."""
    PERMISSION_DENIED = "permission_denied"
    """The sender lacks the role the method needs."""
    ARGS_TOO_LARGE = "args_too_large"
    """The encoded arguments exceed the method's limit."""
    INVALID_ARGS = "invalid_args"
    """The arguments do not decode into the method's record or break its static rules."""
    # Generic: no node of this version sends it, older nodes did for all account checks.
    REFUSED = "refused"
    """Refused for a reason older nodes did not name (kept so their answers parse)."""

    @property
    def status(self) -> int:
        """The HTTP status a node answers this refusal with."""
        return HTTP_STATUS[self]

    @classmethod
    def parse(cls, reason: str) -> Refusal | str:
        """The member named by ``reason``, or ``reason`` itself when it names none (a code
        a newer node added, or a reason that is not a refusal, such as ``bad_body``)."""
        try:
            return cls(reason)
        except ValueError:
            return reason


#: The one HTTP status of each refusal. 400: the transaction itself is wrong and will
#: stay wrong; 403: the sender may not do this; 409: it conflicts with a pending one;
#: 413: too big; 503: the node cannot take it now (retry).
HTTP_STATUS: dict[Refusal, int] = {
    Refusal.TOO_LARGE: 413,
    Refusal.MALFORMED: 400,
    Refusal.WRONG_CHAIN: 400,
    Refusal.BAD_SIGNATURE: 400,
    Refusal.DUPLICATE: 409,
    Refusal.NONCE_TOO_LOW: 400,
    Refusal.NONCE_TOO_HIGH: 400,
    Refusal.NONCE_TAKEN: 409,
    Refusal.SENDER_LIMIT: 400,
    Refusal.FULL: 503,
    Refusal.EXPIRED: 400,
    Refusal.GAS_LIMIT_OUT_OF_BOUNDS: 400,
    Refusal.UNKNOWN_SENDER: 403,
    Refusal.INACTIVE_SENDER: 403,
    Refusal.UNKNOWN_TARGET: 400,
    Refusal.PERMISSION_DENIED: 403,
    Refusal.ARGS_TOO_LARGE: 413,
    Refusal.INVALID_ARGS: 400,
    Refusal.REFUSED: 403,
}
