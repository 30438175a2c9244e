"""The CBV 2.0 event hash: a canonical pre-hash string of an EPCIS event, hashed with SHA-256.

The hash identifies an event independently of how it was written: JSON key order, list
order, EPC URI or Digital Link form, bare CBV words or full CBV URIs, time zones and
number spellings all give the same pre-hash string, so the same ``ni:///sha-256;<hex>?
ver=CBV2.0`` URI. Fields that do not describe *what happened* (``eventID``,
``recordTime``, ``errorDeclaration``) are left out, so an event and its later error
declaration share one hash.

The pre-hash string (CBV 2.0 section 8.9) is, without any separators:

1. ``eventType=<type>``;
2. the standard fields in the canonical order of :data:`ORDER`, each ``name=value``;
   a list contributes its name followed by its elements' strings *sorted*; a structure
   contributes its name followed by its own fields in their canonical order and then its
   extension fields;
3. the remaining fields (business transactions, sources, destinations, ``ilmd`` and
   top-level extensions), each rendered generically and all sorted.

Values are canonicalised: timestamps to UTC with millisecond precision (``...Z``); CBV
URNs and bare CBV words to their ``https://ref.gs1.org/cbv/...`` (or ``gs1:``) web URIs;
numbers without superfluous zeros or signs; GS1 keys to canonical Digital Link URIs
(:func:`xinlian.gs1.identifiers.canonical_id`); extension names ``prefix:name`` to
``{namespace}name`` with the prefixes of the document's ``@context``.

This is an implementation of its own; tests compare it with the independent reference
implementation (the ``epcis-event-hash-generator`` package) over many events. Where that
package's output depends on accidents (JSON key order inside ``bizTransactionList``
entries, values that merely *look* like a CBV word elsewhere in the document) this module
follows the standard: ``type`` before the identifier, and CBV words only in CBV fields.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from xinlian.gs1.identifiers import to_digital_link
from xinlian.gs1.vocab import expand_term

__all__ = ["ORDER", "event_hash", "event_hash_bytes", "hash_uri", "prehash", "time_ms"]

#: Canonical order of the standard fields; a pair's second part orders a structure's
#: fields (None: a plain value or a list of plain values).
Order = Sequence[tuple[str, "Order | None"]]
_QUANTITY: Order = (("epcClass", None), ("quantity", None), ("uom", None))
ORDER: Order = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", None),
    ("inputEPCList", None),
    ("childEPCs", None),
    ("quantityList", _QUANTITY),
    ("childQuantityList", _QUANTITY),
    ("inputQuantityList", _QUANTITY),
    ("outputEPCList", None),
    ("outputQuantityList", _QUANTITY),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    (
        "sensorElementList",
        (
            (
                "sensorMetadata",
                (
                    ("time", None),
                    ("startTime", None),
                    ("endTime", None),
                    ("deviceID", None),
                    ("deviceMetadata", None),
                    ("rawData", None),
                    ("dataProcessingMethod", None),
                    ("bizRules", None),
                ),
            ),
            (
                "sensorReport",
                tuple(
                    (name, None)
                    for name in (
                        "type",
                        "exception",
                        "deviceID",
                        "deviceMetadata",
                        "rawData",
                        "dataProcessingMethod",
                        "time",
                        "microorganism",
                        "chemicalSubstance",
                        "value",
                        "component",
                        "stringValue",
                        "booleanValue",
                        "hexBinaryValue",
                        "uriValue",
                        "minValue",
                        "maxValue",
                        "meanValue",
                        "sDev",
                        "percRank",
                        "percValue",
                        "uom",
                        "coordinateReferenceSystem",
                    )
                ),
            ),
        ),
    ),
)
#: Fields never hashed.
EXCLUDED = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "@context"})
#: Lists whose JSON name differs from their elements' name in the pre-hash string.
_ELEMENT = {
    "epcList": "epc",
    "inputEPCList": "epc",
    "outputEPCList": "epc",
    "childEPCs": "epc",
    "quantityList": "quantityElement",
    "childQuantityList": "quantityElement",
    "inputQuantityList": "quantityElement",
    "outputQuantityList": "quantityElement",
    "sensorElementList": "sensorElement",
}
#: Pair lists rendered ``type=...<name>=...`` per entry.
_PAIR_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source",
               "destinationList": "destination"}  # fmt: skip
#: Fields whose bare words are CBV terms: field path -> vocabulary.
_VOCAB_FIELDS = {
    ("bizStep",): "bizStep",
    ("disposition",): "disposition",
    ("persistentDisposition", "set"): "disposition",
    ("persistentDisposition", "unset"): "disposition",
    ("bizTransactionList", "type"): "bizTransaction-type",
    ("sourceList", "type"): "source-dest-type",
    ("destinationList", "type"): "source-dest-type",
    ("sensorElementList", "sensorElement", "sensorReport", "type"): "measurementType",
    ("sensorElementList", "sensorElement", "sensorReport", "exception"): "sensorAlertType",
    ("sensorElementList", "sensorElement", "sensorReport", "component"): "component",
}
_URN_VOCAB = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)
_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))"
)


# VALUES


def time_ms(text: str) -> int:
    """Milliseconds since the epoch of an RFC 3339 timestamp with a zone (rounded to the
    millisecond, half to even, like the canonical form).

    Raises:
        ValueError: not such a timestamp.
    """
    return int(_utc(text).timestamp() * 1000)


def _utc(text: str) -> datetime:
    m = _TIME.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{text[:60]!r} is not a date-time with a time zone")
    micro = int((m[7] or "0")[:6].ljust(6, "0"))
    ms = round(micro, -3) // 1000  # half to even, as the canonical form prescribes
    if m[8]:
        tz = UTC
    else:
        offset = timedelta(hours=int(m[10]), minutes=int(m[11]))
        tz = timezone(-offset if m[9] == "-" else offset)
    base = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6]), tzinfo=tz)
    return (base + timedelta(milliseconds=ms)).astimezone(UTC)


def _canonical_time(text: str) -> str:
    try:
        moment = _utc(text)
    except ValueError:
        return text
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _number(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text
    try:
        if int(value) == value:
            return str(int(value))
    except (ValueError, OverflowError):
        return text
    return str(value)


def _canonical_value(text: str) -> str:
    for urn, web in _URN_VOCAB:
        text = text.replace(urn, web)
    text = _number(text)
    return to_digital_link(text) or text


def _text(value: Any) -> str:
    """A JSON scalar as text (booleans and null as Python spells them, like the
    reference implementation)."""
    return value if isinstance(value, str) else str(value)


class _Renderer:
    """Renders one event's pre-hash string with a document's namespace prefixes."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self.namespaces = namespaces

    def name(self, key: str) -> str:
        prefix, sep, local = key.partition(":")
        if sep and prefix in self.namespaces:
            return "{" + self.namespaces[prefix] + "}" + local
        return key

    def value(self, raw: Any, path: tuple[str, ...], key: str, ordered: bool = True) -> str:
        text = _text(raw)
        prefix, sep, local = text.partition(":")
        if sep and prefix in self.namespaces:
            text = self.namespaces[prefix] + local
        text = text.strip()
        vocab = _VOCAB_FIELDS.get((*path, key))
        if vocab is not None:
            text = expand_term(vocab, text)
        if ordered and "time" in key.lower() and "offset" not in key.lower():
            return _canonical_time(text)
        return _canonical_value(text)

    # ORDERED FIELDS

    def ordered(self, obj: Mapping[str, Any], order: Order, path: tuple[str, ...]) -> str:
        out = []
        for key, sub in order:
            if key not in obj:
                continue
            parts = sorted(self.field(key, obj[key], sub, path))
            out.append("".join(parts))
        known = {key for key, _ in order}
        extensions = [k for k in obj if k not in known and self._is_extension(k)]
        if path and extensions:
            out.append(self.generic_many([(k, obj[k]) for k in extensions], path))
        return "".join(out)

    def _is_extension(self, key: str) -> bool:
        name = self.name(key)
        return "{" in name and "/}" in name

    def field(self, key: str, value: Any, sub: Order | None, path: tuple[str, ...]) -> list[str]:
        """The strings of one field: one per element for lists (sorted by the caller)."""
        element = _ELEMENT.get(key)
        if element is not None:
            if not isinstance(value, list):
                return []
            inner = [self.element(element, v, sub, (*path, key)) for v in value]
            body = "".join(sorted(s for s in inner if s))
            return [key + body] if body else []
        if isinstance(value, list):
            return [s for v in value if (s := self.element(key, v, sub, path))]
        return [s] if (s := self.element(key, value, sub, path)) else []

    def element(self, name: str, value: Any, sub: Order | None, path: tuple[str, ...]) -> str:
        if isinstance(value, dict):
            if sub is None:
                return ""
            inner = self.ordered(value, sub, (*path, name))
            return name + inner if inner else ""
        text = self.value(value, path, name)
        return f"{name}={text}" if text else ""

    # GENERIC FIELDS

    def generic(self, key: str, value: Any, path: tuple[str, ...]) -> list[str]:
        name = self.name(key)
        if key in _PAIR_LISTS and isinstance(value, list) and not path:
            inner = sorted(self.pair(key, _PAIR_LISTS[key], v) for v in value)
            return [name + "".join(inner)]
        if isinstance(value, list):
            return [s for v in value for s in self.generic(key, v, path)]
        if isinstance(value, dict):
            return [name + self.generic_many(list(value.items()), (*path, key))]
        text = self.value(value, (*path, "*"), key, ordered=False)
        return [f"{name}={text}" if text else name]

    def generic_many(self, items: list[tuple[str, Any]], path: tuple[str, ...]) -> str:
        parts = [s for key, value in items for s in self.generic(key, value, path)]
        return "".join(sorted(parts))

    def pair(self, list_name: str, name: str, entry: Any) -> str:
        if not isinstance(entry, dict):
            return ""
        out = ""
        for key in ("type", name):
            if key in entry:
                text = self.value(entry[key], (list_name,), key, ordered=False)
                out += f"{key}={text}" if text else key
        return out


def prehash(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """The canonical pre-hash string of an event (a JSON object).

    Args:
        event: the event as parsed JSON.
        namespaces: extension prefixes of the document's ``@context`` (prefix -> IRI).
    """
    r = _Renderer(namespaces or {})
    known = {key for key, _ in ORDER}
    ordered = r.ordered({k: v for k, v in event.items() if k in known}, ORDER, ())
    rest = [(k, v) for k, v in event.items() if k not in known and k not in EXCLUDED]
    return f"eventType={_text(event.get('type', ''))}" + ordered + r.generic_many(rest, ())


def event_hash_bytes(
    event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None
) -> bytes:
    """SHA-256 of the pre-hash string (the 32 bytes anchored on chain)."""
    return hashlib.sha256(prehash(event, namespaces).encode()).digest()


def hash_uri(digest: bytes) -> str:
    """The ``ni:///sha-256;<hex>?ver=CBV2.0`` URI of a 32-byte event hash."""
    return f"ni:///sha-256;{digest.hex()}?ver=CBV2.0"


def event_hash(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """The CBV 2.0 event hash URI of an event."""
    return hash_uri(event_hash_bytes(event, namespaces))
