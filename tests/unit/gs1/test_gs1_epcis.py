"""EPCIS 2.0 documents: the GS1 schema, the CBV rules, and exact field paths and reasons."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from epcis_corpus import document, random_event

from xinlian.gs1.epcis import EpcisError, FieldProblem, parse_document
from xinlian.gs1.eventhash import event_hash_bytes

EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2024-05-01T08:00:00+08:00",
    "eventTimeZoneOffset": "+08:00",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.0"},
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:9"}
    ],
}


def problems_of(doc: Any) -> list[FieldProblem]:
    with pytest.raises(EpcisError) as info:
        parse_document(doc)
    return info.value.problems


def test_valid_documents_are_summarised() -> None:
    r = random.Random(11)
    events = [random_event(r) for _ in range(80)]
    summaries = parse_document(document(events))
    assert [s.index for s in summaries] == list(range(80))
    (one,) = parse_document(document([EVENT]))
    assert one.hash == event_hash_bytes(EVENT)
    assert one.type == "ObjectEvent"
    assert one.time_ms == 1714521600000
    assert (one.biz_step, one.disposition, one.action) == ("shipping", "in_transit", "OBSERVE")
    assert one.read_point == "https://id.gs1.org/414/0614141073467"
    assert one.epcs == ["https://id.gs1.org/01/10614141073464/21/2018"]
    assert one.biz_transactions == [("po", "urn:epcglobal:cbv:bt:0614141073467:9")]


def test_cbv_urns_are_summarised_as_words() -> None:
    event = dict(EVENT, bizStep="https://ref.gs1.org/cbv/BizStep-shipping",
                 disposition="https://ref.gs1.org/cbv/Disp-in_transit")  # fmt: skip
    (one,) = parse_document(document([event]))
    assert (one.biz_step, one.disposition) == ("shipping", "in_transit")


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"action": "MOVE"}, "epcisBody.eventList[0].action",
         "'MOVE' is not one of ['OBSERVE', 'ADD', 'DELETE']"),
        ({"eventTime": "yesterday"}, "epcisBody.eventList[0].eventTime",
         "'yesterday' is not a 'date-time'"),
        ({"eventTimeZoneOffset": "+8"}, "epcisBody.eventList[0].eventTimeZoneOffset",
         "'+8' does not match '^([+]|[-])((0[0-9]|1[0-3]):([0-5][0-9])|14:00)$'"),
        ({"bizStep": "urn:example:dancing"}, "epcisBody.eventList[0].bizStep",
         "'urn:example:dancing' is not a CBV business step"),
        ({"disposition": "urn:example:happy"}, "epcisBody.eventList[0].disposition",
         "'urn:example:happy' is not a CBV disposition"),
        ({"readPoint": {"id": "https://id.gs1.org/414/0614141073468"}},
         "epcisBody.eventList[0].readPoint.id", "GLN 0614141073468 has check digit 8, expected 7"),
        ({"epcList": ["https://id.gs1.org/01/10614141073465/21/1"]},
         "epcisBody.eventList[0].epcList[0]",
         "GTIN 10614141073465 has check digit 5, expected 4"),
        ({"type": "ThingEvent"}, "epcisBody.eventList[0].type", "'ThingEvent' is not a 'uri'"),
        ({"colour": "red"}, "epcisBody.eventList[0].colour",
         "is not a field of this EPCIS type nor an extension (prefix:name)"),
    ],
)  # fmt: skip
def test_invalid_fields_are_named(change: dict[str, Any], field: str, reason: str) -> None:
    assert FieldProblem(field, reason) in problems_of(document([dict(EVENT, **change)]))


def test_missing_fields_and_document_shape() -> None:
    no_bizstep = {k: v for k, v in EVENT.items() if k != "bizStep"}
    assert problems_of(document([no_bizstep])) == [
        FieldProblem("epcisBody.eventList[0].bizStep", "is required (a CBV business step)")
    ]
    no_time = {k: v for k, v in EVENT.items() if k != "eventTime"}
    assert FieldProblem(
        "epcisBody.eventList[0]", "'eventTime' is a required property"
    ) in problems_of(document([no_time]))
    assert problems_of([]) == [FieldProblem("", "an EPCIS document is a JSON object")]
    assert problems_of({"type": "EPCISQueryDocument"}) == [
        FieldProblem("type", "must be 'EPCISDocument', got 'EPCISQueryDocument'")
    ]
    bare = {"type": "EPCISDocument"}
    assert FieldProblem("", "'@context' is a required property") in problems_of(bare)
    assert FieldProblem("", "'epcisBody' is a required property") in problems_of(bare)
    assert problems_of(document([])) == [FieldProblem("epcisBody.eventList", "is empty")]


def test_every_problem_is_reported_and_the_message_names_them() -> None:
    events = [dict(EVENT, action="MOVE"), copy.deepcopy(EVENT), dict(EVENT, eventTime="x")]
    with pytest.raises(EpcisError) as info:
        parse_document(document(events))
    fields = [p.field for p in info.value.problems]
    assert "epcisBody.eventList[0].action" in fields
    assert "epcisBody.eventList[2].eventTime" in fields
    assert not [f for f in fields if f.startswith("epcisBody.eventList[1]")]
    assert str(info.value).startswith("invalid EPCIS document: epcisBody.eventList[0].action: ")


def test_too_many_events() -> None:
    assert problems_of(document([EVENT] * 1001)) == [
        FieldProblem("epcisBody.eventList", "has 1001 events; at most 1000 per document")
    ]


MUTATIONS: list[tuple[str, Any]] = [
    ("action", "MOVE"),
    ("eventTime", "2024-13-01T00:00:00Z"),
    ("eventTimeZoneOffset", "+15:00"),
    ("bizStep", "not a uri"),
    ("readPoint", {"ident": "urn:x:1"}),
    ("epcList", "urn:x:1"),
    ("quantityList", [{"epcClass": "urn:x:1"}]),
    ("sourceList", [{"type": "owning_party"}]),
    ("colour", "red"),
    ("ex:colour", "red"),
    ("ilmd", {"not a uri": 1}),
]


def test_the_fast_validator_agrees_with_the_reference_validator() -> None:
    from xinlian.gs1.epcis import _fast_validator, _validator

    r = random.Random(21)
    for n in range(150):
        event = random_event(r)
        if n % 3:
            key, value = MUTATIONS[n % len(MUTATIONS)]
            event[key] = value
        doc = document([event])
        assert _fast_validator().is_valid(doc) == _validator().is_valid(doc), event
