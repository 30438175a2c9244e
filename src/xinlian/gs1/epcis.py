"""EPCIS 2.0 JSON-LD documents: validation against the GS1 schema and the CBV, and event
summaries (the identifiers, step, place and time of each event, in canonical form).

:func:`parse_document` checks, in order, and reports *every* problem found with the
field's JSON path (``epcisBody.eventList[3].eventTime``) and the reason, in Xinlian's own
words and without echoing more than a short value:

1. the document against the ratified EPCIS 2.0 JSON schema (vendored, see
   ``schema/README.md``), with the ``uri`` and ``date-time`` formats checked
   (``jsonschema-rs`` decides; when it refuses, ``jsonschema`` names the failing field);
2. what the schema cannot express: one of the five standard event types; vocabulary
   fields (business step, disposition, transaction and source/destination types, error
   reason, sensor types) may hold any URI, but a URI in the CBV's or GS1's own namespace
   must be one of its terms, after compact IRIs (``cbv:BizStep-inspecting``) are expanded
   with the document's ``@context`` and the standard EPCIS context; every identifier
   that is an EPC URI must be well formed (instance-level URIs with their serial); every
   keyed GS1 Digital Link must have the right check digit; an EPC list names each object
   once (an EPC URI and a Digital Link of the same object count as one); sizes within
   :data:`LIMITS`.

A valid document gives one :class:`EventSummary` per event, with its CBV 2.0 hash.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from xinlian.gs1.eventhash import context_prefixes, event_hash_bytes, time_ms
from xinlian.gs1.identifiers import canonical_id, is_gs1_key, to_digital_link
from xinlian.gs1.vocab import PREFIX, expand_compact, schema_document, short_term, terms

__all__ = [
    "EVENT_TYPES",
    "LIMITS",
    "EpcisError",
    "EventSummary",
    "FieldProblem",
    "namespaces_of",
    "parse_document",
]

EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "TransactionEvent",
    "AssociationEvent",
)
#: Bounds on what one document may carry.
LIMITS = {"events": 1000, "ids_per_event": 1000, "id_chars": 512, "problems": 50, "depth": 32}


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One reason a document is invalid: where (a path like ``epcisBody.eventList[0].
    action``; ``""`` for the document itself) and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field or '(document)'}: {self.reason}"


class EpcisError(ValueError):
    """An invalid EPCIS document; ``problems`` lists every field and reason found."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"invalid EPCIS document: {shown}{more}")


@dataclass(frozen=True, slots=True)
class EventSummary:
    """What the chain needs to know of one event (identifiers in canonical form).

    Attributes:
        index: position in the document's event list.
        body: the event as received (a JSON object).
        hash: the 32-byte CBV 2.0 event hash.
        epcs: ``epcList`` and ``childEPCs``; ``classes``: the quantity lists' classes;
        inputs / outputs: a transformation's EPCs and classes.
        biz_transactions: ``(type, id)`` pairs (type a bare CBV word when it is one).
        error_reason: the error declaration's reason ("" for none).
    """

    index: int
    body: Mapping[str, Any]
    hash: bytes
    type: str
    time_ms: int
    action: str
    biz_step: str
    disposition: str
    read_point: str
    biz_location: str
    parent: str
    epcs: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    biz_transactions: list[tuple[str, str]] = field(default_factory=list)
    error_reason: str = ""
    corrective: list[str] = field(default_factory=list)


@cache
def _validator() -> Draft7Validator:
    return Draft7Validator(schema_document(), format_checker=Draft7Validator.FORMAT_CHECKER)


@cache
def _fast_validator() -> jsonschema_rs.Draft7Validator:
    return jsonschema_rs.Draft7Validator(schema_document(), validate_formats=True)


def _fast_problems(doc: Any) -> list[FieldProblem]:
    return [
        FieldProblem(_path(error.instance_path), "does not satisfy the EPCIS 2.0 schema")
        for error in _fast_validator().iter_errors(doc)
    ]


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value: Any) -> str:
    """A value for a message: short scalars quoted, anything else by its JSON type only."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, bool | int | float) or value is None:
        return json.dumps(value)
    return "an object" if isinstance(value, dict) else "a list"


_TYPES = {"object": "an object", "array": "a list", "string": "a string", "number": "a number",
          "integer": "an integer", "boolean": "true or false", "null": "null"}  # fmt: skip


_VAGUE = "is not an allowed value here"
_COMBINATION = "this combination of"


def _reason(error: ValidationError) -> list[tuple[str, str]]:
    """(path suffix, reason) of one schema error, in Xinlian's words: the field at fault
    and why, never the offending data itself beyond a short scalar."""
    kind, got = str(error.validator), error.instance
    want: Any = error.validator_value
    if kind == "required" and isinstance(got, dict):
        return [(f".{name}", "required") for name in want if name not in got]
    if kind == "additionalProperties" and isinstance(got, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        return [(f".{k}", "is not a field here") for k in got if k not in known]
    if kind in ("enum", "const"):
        options = want if kind == "enum" else [want]
        shown = ", ".join(_short(o) for o in options[:8]) + (", ..." if len(options) > 8 else "")
        return [("", f"{_short(got)} is not one of {shown}")]
    if kind == "type":
        names = want if isinstance(want, list) else [want]
        return [("", "must be " + " or ".join(_TYPES.get(str(n), str(n)) for n in names))]
    if kind == "format":
        return [("", f"{_short(got)} is not a valid {want}")]
    if kind == "pattern":
        return [("", f"{_short(got)} does not have the required form")]
    if kind == "minItems":
        return [("", f"must list at least {want} item{'s' if want != 1 else ''}")]
    if kind == "uniqueItems":
        return [("", "lists the same item twice")]
    if kind in ("minLength", "maxLength", "minimum", "maximum"):
        return [("", f"{_short(got)} violates {kind} {want}")]
    if kind in ("anyOf", "oneOf") and error.context:
        required = [c for c in error.context if c.validator == "required"]
        if len(required) == len(error.context):
            present = got if isinstance(got, dict) else {}
            missing: list[str] = []
            for c in required:
                listed: Any = c.validator_value
                missing += [str(n) for n in listed if n not in present]
            return [("", "needs one of " + ", ".join(dict.fromkeys(missing)))]
        fields = sorted({str(c.relative_path[0]) for c in error.context if c.relative_path})
        if fields:
            return [("", f"{_COMBINATION} {', '.join(fields)} is not allowed")]
    if kind in ("anyOf", "oneOf"):
        return [("", f"{_short(got)} {_VAGUE}")]
    return [("", f"{_short(got)} is not allowed here ({kind})")]


def _focus(error: ValidationError) -> ValidationError:
    """The error to report: an ``anyOf`` whose alternatives all fail at one field inside
    the value is followed down to that field; one whose alternatives disagree (the value
    as a whole is wrong) is reported where it is."""
    while error.validator in ("anyOf", "oneOf") and error.context:
        heads = {tuple(c.relative_path)[:1] for c in error.context}
        if len(heads) != 1 or heads == {()}:
            break
        error = best_match(error.context) or error.context[0]
    return error


def _schema_problems(doc: Any) -> list[FieldProblem]:
    problems = []
    for error in _validator().iter_errors(doc):
        deepest = _focus(error)
        where = _path(deepest.absolute_path)
        if "propertyNames" in deepest.absolute_schema_path and isinstance(deepest.instance, str):
            name = deepest.instance
            problems.append(
                FieldProblem(
                    f"{where}.{name}" if where else name,
                    "is not a field of this EPCIS type nor an extension (prefix:name)",
                )
            )
            continue
        for suffix, reason in _reason(deepest):
            field = (where + suffix) if where else suffix.lstrip(".")
            problems.append(FieldProblem(field, reason))
    # One problem per field, in document order; a vague problem of a whole structure is
    # left out when a field inside it is named (it is usually a consequence).
    seen: dict[str, FieldProblem] = {}
    for p in problems:
        seen.setdefault(p.field, p)
    fields = list(seen)
    return [
        p
        for p in seen.values()
        if not (p.reason.endswith(_VAGUE) or p.reason.startswith(_COMBINATION))
        or not any(f != p.field and f.startswith(p.field) for f in fields)
    ]


def namespaces_of(doc: Mapping[str, Any]) -> dict[str, str]:
    """Extension prefixes declared in a document's ``@context`` (prefix -> IRI)."""
    return context_prefixes(doc.get("@context"))


def _ids(values: Any) -> list[str]:
    return [canonical_id(v) for v in values or [] if isinstance(v, str)]


def _classes(values: Any) -> list[str]:
    return [
        canonical_id(q["epcClass"])
        for q in values or []
        if isinstance(q, dict) and isinstance(q.get("epcClass"), str)
    ]


def _place(event: Mapping[str, Any], key: str) -> str:
    value = event.get(key)
    return canonical_id(value["id"]) if isinstance(value, dict) and "id" in value else ""


def _summary(index: int, event: Mapping[str, Any], ns: Mapping[str, str]) -> EventSummary:
    kind = str(event["type"])
    error = event.get("errorDeclaration") or {}
    return EventSummary(
        index=index,
        body=event,
        hash=event_hash_bytes(event, ns),
        type=kind,
        time_ms=time_ms(event["eventTime"]),
        action=str(event.get("action", "")),
        biz_step=short_term("bizStep", expand_compact(str(event.get("bizStep", "")), ns)),
        disposition=short_term(
            "disposition", expand_compact(str(event.get("disposition", "")), ns)
        ),
        read_point=_place(event, "readPoint"),
        biz_location=_place(event, "bizLocation"),
        parent=canonical_id(event["parentID"]) if isinstance(event.get("parentID"), str) else "",
        epcs=sorted(set(_ids(event.get("epcList")) + _ids(event.get("childEPCs")))),
        classes=sorted(
            set(_classes(event.get("quantityList")) + _classes(event.get("childQuantityList")))
        ),
        inputs=sorted(
            set(_ids(event.get("inputEPCList")) + _classes(event.get("inputQuantityList")))
        ),
        outputs=sorted(
            set(_ids(event.get("outputEPCList")) + _classes(event.get("outputQuantityList")))
        ),
        biz_transactions=sorted(
            {
                (
                    short_term("bizTransaction-type", expand_compact(str(bt.get("type", "")), ns)),
                    bt["bizTransaction"],
                )
                for bt in event.get("bizTransactionList") or []
            }
        ),
        error_reason=(
            short_term("error-reason", expand_compact(str(error.get("reason", "")), ns))
            if error
            else ""
        ),
        corrective=[str(c) for c in error.get("correctiveEventIDs", [])] if error else [],
    )


#: Fields holding a vocabulary term (any URI is allowed; a URI in the CBV's or GS1's own
#: namespace must be one of its terms): path inside an event -> vocabulary.
_VOCAB_PATHS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("bizStep",), "bizStep"),
    (("disposition",), "disposition"),
    (("persistentDisposition", "set", "*"), "disposition"),
    (("persistentDisposition", "unset", "*"), "disposition"),
    (("bizTransactionList", "*", "type"), "bizTransaction-type"),
    (("sourceList", "*", "type"), "source-dest-type"),
    (("destinationList", "*", "type"), "source-dest-type"),
    (("errorDeclaration", "reason"), "error-reason"),
    (("sensorElementList", "*", "sensorReport", "*", "type"), "measurementType"),
    (("sensorElementList", "*", "sensorReport", "*", "exception"), "sensorAlertType"),
    (("sensorElementList", "*", "sensorReport", "*", "component"), "component"),
)
_VOCAB_NAMES = {
    "bizStep": "business step",
    "disposition": "disposition",
    "bizTransaction-type": "business transaction type",
    "source-dest-type": "source/destination type",
    "error-reason": "error reason",
    "measurementType": "measurement type",
    "sensorAlertType": "sensor alert type",
    "component": "component",
}
#: Identifier fields: path inside an event ("*": every list item).
_ID_PATHS: tuple[tuple[str, ...], ...] = (
    ("parentID",),
    ("readPoint", "id"),
    ("bizLocation", "id"),
    ("sourceList", "*", "source"),
    ("destinationList", "*", "destination"),
    ("bizTransactionList", "*", "bizTransaction"),
    *((key, "*", "epcClass") for key in
      ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")),
)  # fmt: skip
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")


def _at(value: Any, path: tuple[str, ...], where: str) -> Iterable[tuple[str, Any]]:
    """Every (JSON path, value) a path pattern reaches inside ``value``."""
    if not path:
        yield where, value
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _at(item, rest, f"{where}[{i}]")
    elif isinstance(value, dict) and head in value:
        yield from _at(value[head], rest, f"{where}.{head}")


def _event_problems(
    where: str, event: Mapping[str, Any], ns: Mapping[str, str]
) -> list[FieldProblem]:
    problems = []
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        return [FieldProblem(f"{where}.type", f"{_short(kind)} is not one of {list(EVENT_TYPES)}")]
    for path, vocabulary in _VOCAB_PATHS:
        for at, value in _at(event, path, where):
            if isinstance(value, str):
                problems += _vocab_problems(at, value, vocabulary, ns)
    count = 0
    for key in _EPC_LISTS:
        seen: dict[str, int] = {}
        for i, value in enumerate(event.get(key) or []):
            count += 1
            problems += _id_problems(f"{where}.{key}[{i}]", value)
            if isinstance(value, str):
                same = seen.setdefault(canonical_id(value), i)
                if same != i:
                    problems.append(
                        FieldProblem(
                            f"{where}.{key}[{i}]", f"names the same object as {key}[{same}]"
                        )
                    )
    for path in _ID_PATHS:
        for at, value in _at(event, path, where):
            count += at.endswith("epcClass")
            problems += _id_problems(at, value)
    if count > LIMITS["ids_per_event"]:
        problems.append(
            FieldProblem(where, f"names {count} identifiers; at most {LIMITS['ids_per_event']}")
        )
    return problems


def _vocab_problems(
    where: str, value: str, vocabulary: str, ns: Mapping[str, str]
) -> list[FieldProblem]:
    """Any URI names a vocabulary term, but one in the CBV's (or GS1's) own namespace must
    be a term of it (compact IRIs such as ``cbv:BizStep-shipping`` are expanded first)."""
    full = expand_compact(value, ns)
    prefix = PREFIX[vocabulary]
    if full.startswith(prefix) and full[len(prefix) :] not in terms(vocabulary):
        return [FieldProblem(where, f"{_short(value)} is not a CBV {_VOCAB_NAMES[vocabulary]}")]
    return []


#: Components of each EPC URI scheme's body (the last is the serial where one is needed).
_EPC_PARTS = {
    "urn:epc:id:sgtin:": 3, "urn:epc:id:sgln:": 3, "urn:epc:id:grai:": 3,
    "urn:epc:id:gdti:": 3, "urn:epc:id:cpi:": 3, "urn:epc:id:sgcn:": 3,
    "urn:epc:id:itip:": 5, "urn:epc:id:upui:": 3, "urn:epc:id:giai:": 2,
    "urn:epc:id:ginc:": 2, "urn:epc:id:sscc:": 2, "urn:epc:id:gsrn:": 2,
    "urn:epc:id:gsrnp:": 2, "urn:epc:id:gsin:": 2, "urn:epc:id:pgln:": 2,
    "urn:epc:class:lgtin:": 3,
}  # fmt: skip
_SERIALISED = ("sgtin", "sgln", "grai", "gdti", "cpi", "sgcn", "itip", "upui", "lgtin")


def _id_problems(where: str, value: Any) -> list[FieldProblem]:
    if not isinstance(value, str):
        return []
    if len(value) > LIMITS["id_chars"]:
        return [FieldProblem(where, f"longer than {LIMITS['id_chars']} characters")]
    scheme = next((s for s in _EPC_PARTS if value.startswith(s)), None)
    if scheme is not None and to_digital_link(value) is None:
        parts = value[len(scheme) :].split(".")
        name = scheme.split(":")[3]
        if name in _SERIALISED and (len(parts) < _EPC_PARTS[scheme] or not parts[-1]):
            what = {"lgtin": "a lot number", "sgln": "its extension ('0' for none)"}.get(
                name, "a serial number"
            )
            return [FieldProblem(where, f"a {name} EPC URI names one instance and needs {what}")]
        return [
            FieldProblem(
                where,
                f"is not a well-formed {name} EPC URI (company prefix and references of the "
                "right lengths, allowed characters)",
            )
        ]
    reason = is_gs1_key(canonical_id(value))
    return [] if reason is None else [FieldProblem(where, reason)]


def _too_deep(doc: Any, limit: int) -> str | None:
    """The JSON path of the first value nested deeper than ``limit`` (None if none is);
    iterative, so no document can exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > limit:
            return where
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((item, f"{where}.{key}" if where else str(key), depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
    return None


def parse_document(doc: Any) -> list[EventSummary]:
    """Validate an EPCIS 2.0 document (parsed JSON) and summarise its events.

    Raises:
        EpcisError: listing every invalid field with its reason.
    """
    if not isinstance(doc, dict):
        raise EpcisError([FieldProblem("", "an EPCIS document is a JSON object")])
    if doc.get("type") != "EPCISDocument":
        raise EpcisError(
            [FieldProblem("type", f"must be 'EPCISDocument', got {doc.get('type')!r}")]
        )
    body = doc.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    if isinstance(events, list) and len(events) > LIMITS["events"]:
        raise EpcisError(
            [
                FieldProblem(
                    "epcisBody.eventList",
                    f"has {len(events)} events; at most {LIMITS['events']} per document",
                )
            ]
        )
    deep = _too_deep(doc, LIMITS["depth"])
    if deep is not None:
        raise EpcisError(
            [FieldProblem(deep, f"nests deeper than {LIMITS['depth']} levels of objects and lists")]
        )
    # The compiled validator decides (about 100 times faster); the reference validator
    # explains, with the deepest failing field, only when a document is invalid.
    problems = (
        [] if _fast_validator().is_valid(doc) else (_schema_problems(doc) or _fast_problems(doc))
    )
    if problems:
        raise EpcisError(problems[: LIMITS["problems"]])
    assert isinstance(events, list)
    if not events:
        raise EpcisError([FieldProblem("epcisBody.eventList", "is empty")])
    ns = namespaces_of(doc)
    for i, event in enumerate(events):
        problems += _event_problems(f"epcisBody.eventList[{i}]", event, ns)
    if problems:
        raise EpcisError(problems[: LIMITS["problems"]])
    return [_summary(i, event, ns) for i, event in enumerate(events)]
