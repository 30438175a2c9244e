"""The CBV 2.0 event hash: a canonical pre-hash string of an EPCIS event, hashed with SHA-256.

The hash identifies an event independently of how it was written: JSON key order, list
order, EPC URI or Digital Link form, bare CBV words or full CBV URIs, time zones and
number spellings all give the same pre-hash string, so the same ``ni:///sha-256;<hex>?
ver=CBV2.0`` URI. Fields that do not describe *what happened* (``eventID``,
``recordTime``, ``errorDeclaration``) are left out, so an event and its later error
declaration share one hash.

The pre-hash string (CBV 2.0 section 8.9) is built on the event's element tree (its
EPCIS XML shape, see ``_Node``), without separators:

1. ``eventType=<type>``;
2. the standard fields in the canonical order of :data:`ORDER`, each ``name=value``;
   repeated elements (list items) are sorted; a structure contributes its name, its own
   members in their canonical order, then its user extensions (sorted);
3. everything not yet rendered (business transactions, sources, destinations, ``ilmd``,
   top-level extensions, and whatever a structure held beyond its standard members,
   still under the structure's name), rendered generically and sorted.

Nothing the event says is left out except the fields CBV 2.0 excludes (``eventID``,
``recordTime``, ``errorDeclaration``) and JSON-LD ``@context``.

Values are canonicalised: timestamps to UTC with millisecond precision (``...Z``); CBV
URNs, bare CBV words and compact IRIs (``cbv:BizStep-shipping``) to their web URIs;
numbers without superfluous zeros or signs; GS1 keys to canonical Digital Link URIs
(:func:`xinlian.gs1.identifiers.canonical_id`); extension names ``prefix:name`` to
``{namespace}name`` with the prefixes of the document's ``@context``.

This is an implementation of its own; tests compare it with the independent reference
implementation (the ``epcis-event-hash-generator`` package) over many random events.
Where that package departs from its own written rules this module follows the rules and
never drops data; docs/trace.md lists each case ("Where the reference departs").
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from xinlian.gs1.identifiers import to_digital_link
from xinlian.gs1.vocab import expand_compact, expand_term

__all__ = [
    "ORDER",
    "context_prefixes",
    "event_hash",
    "event_hash_bytes",
    "hash_uri",
    "prehash",
    "time_ms",
]

#: Canonical order of the standard fields (in the element tree, see ``_Node``); a pair's
#: second part orders a structure's members (None: a plain value).
Order = Sequence[tuple[str, "Order | None"]]
_QUANTITY: Order = (("quantityElement", (("epcClass", None), ("quantity", None), ("uom", None))),)
_EPCS: Order = (("epc", None),)
_SENSOR_METADATA: Order = tuple(
    (name, None)
    for name in (
        "time",
        "startTime",
        "endTime",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
    )
)
_SENSOR_REPORT: Order = tuple(
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
)
ORDER: Order = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", _EPCS),
    ("inputEPCList", _EPCS),
    ("childEPCs", _EPCS),
    ("quantityList", _QUANTITY),
    ("childQuantityList", _QUANTITY),
    ("inputQuantityList", _QUANTITY),
    ("outputEPCList", _EPCS),
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
                "sensorElement",
                (("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT)),
            ),
        ),
    ),
)
#: Fields never hashed (CBV 2.0: an event and its error declaration share one hash).
EXCLUDED = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "@context"})
#: Pair lists: each entry renders its ``type`` first, then the rest (see ``_pair``).
_PAIR_LISTS = frozenset({"bizTransactionList", "sourceList", "destinationList"})
#: Fields whose values are CBV or GS1 vocabulary terms (bare words are expanded):
#: the field's path of JSON names -> vocabulary.
_VOCAB_FIELDS = {
    ("bizStep",): "bizStep",
    ("disposition",): "disposition",
    ("persistentDisposition", "set"): "disposition",
    ("persistentDisposition", "unset"): "disposition",
    ("bizTransactionList", "type"): "bizTransaction-type",
    ("sourceList", "type"): "source-dest-type",
    ("destinationList", "type"): "source-dest-type",
    ("sensorElementList", "sensorReport", "type"): "measurementType",
    ("sensorElementList", "sensorReport", "exception"): "sensorAlertType",
    ("sensorElementList", "sensorReport", "component"): "component",
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
    """A number without superfluous zeros or signs, spelled as the reference spells it
    (Python's shortest float text, integers without ``.0``) whenever that spelling is
    exact; otherwise exactly (the reference's float would round away digits, so two
    different values would share a hash). Non-numbers are returned unchanged."""
    try:
        value = float(text)
        exact = Decimal(text)
    except (ValueError, InvalidOperation):
        return text
    if not exact.is_finite() or not math.isfinite(value):
        return text
    if not -400 < exact.adjusted() < 400:
        return text  # far outside any measurement: kept as written
    spelled = str(int(value)) if value.is_integer() else str(value)
    if Decimal(spelled) == exact:
        return spelled
    plain = format(exact.normalize(), "f")
    return plain[:-2] if plain.endswith(".0") else plain


def _canonical_value(text: str) -> str:
    for urn, web in _URN_VOCAB:
        text = text.replace(urn, web)
    text = _number(text)
    return to_digital_link(text) or text


def _text(value: Any) -> str:
    """A JSON scalar as text (booleans and null as Python spells them, like the
    reference implementation)."""
    return value if isinstance(value, str) else str(value)


# THE ELEMENT TREE
#
# An event is first turned into a tree of elements (name, text, children) shaped like its
# EPCIS XML form, since the CBV rules are written for that form: a JSON list becomes one
# element per item, each under the list's name; a ``...List`` becomes a list element whose
# items are named without ``List`` (``epcList`` holds ``epc`` elements, a user extension
# ``ex:itemList`` holds ``ex:item`` elements); quantity entries are ``quantityElement``s.


@dataclass(slots=True)
class _Node:
    name: str
    text: str = ""
    children: list[_Node] = field(default_factory=list)
    #: A bizTransaction/source/destination entry: rendered in its own order, unsorted.
    pair: bool = False


class _Builder:
    """Builds the element tree of one event with a document's namespace prefixes."""

    def __init__(self, namespaces: Mapping[str, str]) -> None:
        self.namespaces = namespaces

    def name(self, key: str) -> str:
        prefix, sep, local = key.partition(":")
        if sep and prefix in self.namespaces:
            return "{" + self.namespaces[prefix] + "}" + local
        return key

    def value(self, raw: Any, path: tuple[str, ...]) -> str:
        text = _text(raw)
        vocab = _VOCAB_FIELDS.get(path)
        if vocab is not None:
            return expand_term(vocab, expand_compact(text.strip(), self.namespaces))
        prefix, sep, local = text.partition(":")
        if sep and prefix in self.namespaces:
            return self.namespaces[prefix] + local
        return text

    def nodes(self, key: str, value: Any, path: tuple[str, ...]) -> list[_Node]:
        """The elements of one JSON member (several for a list)."""
        name = self.name(key)
        here = (*path, key)
        if isinstance(value, list):
            out = []
            for item in value:
                if isinstance(item, list):  # a list of lists: items without names
                    out.append(_Node(name, "", [n for v in item for n in self.nodes("", v, here)]))
                else:
                    out.extend(self.nodes(key, item, path))
            return out
        if isinstance(value, dict):
            return [self.element(name, value, here)]
        return [_Node(name, self.value(value, here))]

    def element(self, name: str, obj: Mapping[str, Any], path: tuple[str, ...]) -> _Node:
        node = _Node(name)
        for key, value in obj.items():
            if key == "#text":  # an XML element's own text, as JSON-from-XML writes it
                node.text = _text(value)
                continue
            node.children.extend(self.nodes(key, value, path))
        node.children = _restructure(node.children, bool(path) and path[-1] in _PAIR_LISTS)
        return node


def _restructure(children: list[_Node], in_pair_list: bool) -> list[_Node]:
    """Group each ``...List`` member's items under one list element (items renamed without
    ``List``), and give quantity entries and input/output EPCs their XML names."""
    if in_pair_list:
        return children
    lists: dict[str, _Node] = {}
    out: list[_Node] = []
    child_epcs: _Node | None = None
    for child in children:
        if child.name.endswith("List"):
            if child.name not in lists:
                lists[child.name] = _Node(child.name)
            item = _Node(child.name[:-4], child.text, child.children)
            if child.name in _PAIR_LISTS:
                item.pair = True
                item.children = _pair_order(child.name, child.children)
            lists[child.name].children.append(_rename(item))
        elif child.name == "childEPCs":
            if child_epcs is None:
                child_epcs = _Node("childEPCs")
            child_epcs.children.append(_Node("epc", child.text, child.children))
        else:
            out.append(_rename(child))
    out.extend(_rename(n) for n in lists.values())
    if child_epcs is not None:
        out.append(child_epcs)
    return out


def _rename(node: _Node) -> _Node:
    if node.name in ("inputEPC", "outputEPC"):
        node.name = "epc"
    elif node.name in ("inputQuantity", "outputQuantity", "childQuantity") or (
        node.name == "quantity" and node.children
    ):
        node.name = "quantityElement"
    return node


def _pair_order(list_name: str, fields: list[_Node]) -> list[_Node]:
    """A pair entry's fields: ``type``, then the identifier, then anything else (sorted by
    name), whatever the JSON key order."""
    ident = list_name[:-4]
    rank = {"type": 0, ident: 1}
    return sorted(fields, key=lambda n: (rank.get(n.name, 2), n.name, n.text))


# RENDERING


def _is_extension(name: str) -> bool:
    return "{" in name and "/}" in name


def _gather_extensions(children: list[_Node]) -> list[_Node]:
    """The user extensions of a structure, removed from ``children`` to be appended after
    its standard fields. Like the reference, a structure with a single member, or with a
    member whose name contains ``eventTime`` or ``action``, keeps its extensions; they
    are then rendered, still under the structure's name, with the event's remaining fields
    (see docs/trace.md, "Where the reference departs from its own rules")."""
    if len(children) <= 1 or any("eventTime" in c.name or "action" in c.name for c in children):
        return []
    found = [c for c in children if _is_extension(c.name)]
    for c in found:
        children.remove(c)
    return found


def _ordered(children: list[_Node], order: Order) -> str:
    """Render (and remove) the members named in ``order``; members that are left over
    (unknown fields, fields of an unexpected shape) stay in ``children``."""
    extensions = _gather_extensions(children)
    out = ""
    for name, sub in order:
        parts = []
        for child in [c for c in children if c.name == name]:
            text = _member(child, sub)
            if text:
                parts.append(text)
            if not child.children:
                children.remove(child)
        out += "".join(sorted(parts))
    return out + _generic(extensions)


def _member(node: _Node, sub: Order | None) -> str:
    inner = _ordered(node.children, sub) if sub else ""
    text = node.text.strip()
    if text:
        if "time" in node.name.lower() and "offset" not in node.name.lower():
            text = _canonical_time(text)
        else:
            text = _canonical_value(text)
        text = "=" + text
    return node.name + text + inner if text or inner else ""


def _generic(nodes: list[_Node]) -> str:
    """Render everything in ``nodes``: ``name=value`` and then the children, siblings
    sorted (except inside a pair entry)."""
    parts = []
    for node in nodes:
        if node.pair:
            parts.append(_generic_unsorted(node.children))
            continue
        text = node.text.strip()
        parts.append(
            node.name + ("=" + _canonical_value(text) if text else "") + _generic(node.children)
        )
    return "".join(sorted(parts))


def _generic_unsorted(nodes: list[_Node]) -> str:
    out = ""
    for node in nodes:
        text = node.text.strip()
        out += node.name + ("=" + _canonical_value(text) if text else "") + _generic(node.children)
    return out


def prehash(event: Mapping[str, Any], namespaces: Mapping[str, str] | None = None) -> str:
    """The canonical pre-hash string of an event (a JSON object).

    Args:
        event: the event as parsed JSON.
        namespaces: prefixes of the document's ``@context`` (prefix -> IRI); prefixes of
            the event's own ``@context`` are added to them.
    """
    ns = dict(namespaces or {})
    ns.update(context_prefixes(event.get("@context")))
    builder = _Builder(ns)
    root = builder.element("", {k: v for k, v in event.items() if k not in EXCLUDED}, ())
    ordered = _ordered(root.children, ORDER)
    return f"eventType={_text(event.get('type', ''))}" + ordered + _generic(root.children)


def context_prefixes(context: Any) -> dict[str, str]:
    """Prefixes declared in a JSON-LD ``@context`` (a string, an object or a list of them):
    prefix -> IRI, for string values only."""
    entries = context if isinstance(context, list) else [context]
    out: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, dict):
            out.update({k: v for k, v in entry.items() if isinstance(v, str)})
    return out


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
