"""Argument records of the ``trace`` app's transactions: part of the transaction format, so
they live here where the app that decodes them, the API that checks a capture against its
EPCIS document and the SDK that builds it can all import them."""

from msgspec import Struct

from xinlian.types.ints import U64

#: Request headers of a signed off-chain upload (see :class:`UploadAuth`).
UPLOAD_KEY_HEADER = "X-Xinlian-Key"
UPLOAD_TIME_HEADER = "X-Xinlian-Time"
UPLOAD_SIGNATURE_HEADER = "X-Xinlian-Signature"


class EventAnchor(Struct, array_like=True, frozen=True, forbid_unknown_fields=True):
    """One EPCIS event as anchored on chain: its CBV 2.0 hash and the summary the chain
    checks permissions on and indexes (identifiers in canonical GS1 Digital Link form;
    ``""`` or ``[]`` where the event has none).

    The body stays off chain; anyone holding it recomputes ``hash`` and the summary.
    """

    hash: bytes
    type: str
    time_ms: int
    action: str
    biz_step: str
    disposition: str
    read_point: str
    biz_location: str
    parent: str
    epcs: list[str]
    classes: list[str]
    inputs: list[str]
    outputs: list[str]
    biz_transactions: list[str]
    error_reason: str
    corrective: list[str]


class CaptureArgs(Struct, frozen=True, forbid_unknown_fields=True):
    """Arguments of ``trace.capture``: the events of one EPCIS document, in order."""

    events: list[EventAnchor]


class UploadAuth(Struct, array_like=True, frozen=True):
    """What an account signs to have a node store bytes off chain (``POST
    /v1/trace/documents``), with the same suite and key as its transactions.

    The signature is over ``codec.encode(UploadAuth(...))``; the request carries the
    public key, the time and the signature in the ``X-Xinlian-Key``, ``X-Xinlian-Time``
    and ``X-Xinlian-Signature`` headers (hex, decimal milliseconds, hex). ``body_hash`` is
    the suite hash of the exact request body, ``path`` the request path.
    """

    chain_id: str
    path: str
    time_ms: U64
    body_hash: bytes
