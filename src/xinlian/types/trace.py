"""Argument records of the ``trace`` app's transactions: part of the transaction format, so
they live here where the app that decodes them, the API that checks a capture against its
EPCIS document and the SDK that builds it can all import them."""

from msgspec import Struct


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
