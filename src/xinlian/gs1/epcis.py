"""EPCIS 2.0 JSON-LD documents: validation against the GS1 schema and the CBV, and event
summaries (the identifiers, step, place and time of each event, in canonical form).

:func:`parse_document` checks, in order, and reports *every* problem found with the
field's path (``epcisBody.eventList[3].readPoint.id``) and the reason:

1. the document against the EPCIS 2.0 JSON schema (vendored, see ``schema/README.md``),
   with the ``uri`` and ``date-time`` formats checked (``jsonschema-rs`` decides; when it
   refuses, ``jsonschema`` names the deepest failing field);
2. Xinlian's rules on top: one of the five standard event types; a CBV business step
   (bare word, CBV URN or CBV web URI) on every event; CBV dispositions; correct check
   digits in every GS1 key; sizes within :data:`LIMITS`.

A valid document gives one :class:`EventSummary` per event, with its CBV 2.0 hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match

from xinlian.gs1.eventhash import event_hash_bytes, time_ms
from xinlian.gs1.identifiers import canonical_id, is_gs1_key
from xinlian.gs1.vocab import schema_document, short_term, terms

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
LIMITS = {"events": 1000, "ids_per_event": 1000, "id_chars": 512, "problems": 50}


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
        FieldProblem(_path(error.instance_path), error.message[:300])
        for error in _fast_validator().iter_errors(doc)
    ]


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_problems(doc: Any) -> list[FieldProblem]:
    problems = []
    for error in _validator().iter_errors(doc):
        deepest: ValidationError = best_match([error]) or error
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
        problems.append(FieldProblem(where, deepest.message[:300]))
    # Each problem once, in document order.
    seen: dict[tuple[str, str], FieldProblem] = {}
    for p in problems:
        seen.setdefault((p.field, p.reason), p)
    return list(seen.values())


def namespaces_of(doc: Mapping[str, Any]) -> dict[str, str]:
    """Extension prefixes declared in a document's ``@context`` (prefix -> IRI)."""
    context = doc.get("@context")
    entries = context if isinstance(context, list) else [context]
    out: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, dict):
            out.update({k: v for k, v in entry.items() if isinstance(v, str)})
    return out


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
        biz_step=short_term("bizStep", str(event.get("bizStep", ""))),
        disposition=short_term("disposition", str(event.get("disposition", ""))),
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
                (short_term("bizTransaction-type", str(bt.get("type", ""))), bt["bizTransaction"])
                for bt in event.get("bizTransactionList") or []
            }
        ),
        error_reason=short_term("error-reason", str(error.get("reason", ""))) if error else "",
        corrective=[str(c) for c in error.get("correctiveEventIDs", [])] if error else [],
    )


def _event_problems(where: str, event: Mapping[str, Any]) -> list[FieldProblem]:
    problems = []
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        return [FieldProblem(f"{where}.type", f"{kind!r} is not one of {list(EVENT_TYPES)}")]
    step = event.get("bizStep")
    if step is None:
        problems.append(FieldProblem(f"{where}.bizStep", "is required (a CBV business step)"))
    elif not _is_cbv(str(step), "bizStep"):
        problems.append(FieldProblem(f"{where}.bizStep", f"{step!r} is not a CBV business step"))
    disp = event.get("disposition")
    if disp is not None and not _is_cbv(str(disp), "disposition"):
        problems.append(FieldProblem(f"{where}.disposition", f"{disp!r} is not a CBV disposition"))
    count = 0
    for key in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        for i, value in enumerate(event.get(key) or []):
            count += 1
            problems += _id_problems(f"{where}.{key}[{i}]", value)
    for key in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        for i, q in enumerate(event.get(key) or []):
            count += 1
            if isinstance(q, dict):
                problems += _id_problems(f"{where}.{key}[{i}].epcClass", q.get("epcClass"))
    for key in ("readPoint", "bizLocation"):
        value = event.get(key)
        if isinstance(value, dict):
            problems += _id_problems(f"{where}.{key}.id", value.get("id"))
    if isinstance(event.get("parentID"), str):
        problems += _id_problems(f"{where}.parentID", event["parentID"])
    if count > LIMITS["ids_per_event"]:
        problems.append(
            FieldProblem(where, f"names {count} identifiers; at most {LIMITS['ids_per_event']}")
        )
    return problems


def _is_cbv(value: str, vocabulary: str) -> bool:
    return short_term(vocabulary, value) in terms(vocabulary)


def _id_problems(where: str, value: Any) -> list[FieldProblem]:
    if not isinstance(value, str):
        return []
    if len(value) > LIMITS["id_chars"]:
        return [FieldProblem(where, f"longer than {LIMITS['id_chars']} characters")]
    reason = is_gs1_key(canonical_id(value))
    return [] if reason is None else [FieldProblem(where, reason)]


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
    for i, event in enumerate(events):
        problems += _event_problems(f"epcisBody.eventList[{i}]", event)
    if problems:
        raise EpcisError(problems[: LIMITS["problems"]])
    ns = namespaces_of(doc)
    return [_summary(i, event, ns) for i, event in enumerate(events)]
