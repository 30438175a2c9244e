"""Transport counters, shaped for a metrics exporter."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class TransportCounters:
    """Monotonic counts since the transport was created.

    ``drops`` and ``refused`` are keyed by reason label; ``misbehaviour`` by the peer's
    public key in hex (the running total of weights counted against it).

    Drop reasons: ``oversized``, ``malformed``, ``unknown_channel``, ``queue_overflow``,
    ``handler_error``, ``not_connected``. Refusal reasons: ``handshake`` (TLS failed:
    unknown key, forged certificate, timeout), ``not_allowed``, ``unexpected_key``,
    ``banned``, ``self``, ``duplicate`` (dedup of simultaneous dials).
    """

    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    connections_opened: int = 0
    connections_closed: int = 0
    bans: int = 0
    drops: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    misbehaviour: Counter[str] = field(default_factory=Counter)
