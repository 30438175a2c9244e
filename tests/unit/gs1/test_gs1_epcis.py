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
         "'MOVE' is not one of 'OBSERVE', 'ADD', 'DELETE'"),
        ({"eventTime": "yesterday"}, "epcisBody.eventList[0].eventTime",
         "'yesterday' is not a valid date-time"),
        ({"eventTimeZoneOffset": "+8"}, "epcisBody.eventList[0].eventTimeZoneOffset",
         "'+8' does not have the required form"),
        ({"bizStep": "https://ref.gs1.org/cbv/BizStep-dancing"}, "epcisBody.eventList[0].bizStep",
         "'https://ref.gs1.org/cbv/BizStep-dancing' is not a CBV business step"),
        ({"bizStep": "cbv:BizStep-dancing"}, "epcisBody.eventList[0].bizStep",
         "'cbv:BizStep-dancing' is not a CBV business step"),
        ({"disposition": "cbv:Disp-happy"}, "epcisBody.eventList[0].disposition",
         "'cbv:Disp-happy' is not a CBV disposition"),
        ({"readPoint": {"id": "https://id.gs1.org/414/0614141073468"}},
         "epcisBody.eventList[0].readPoint.id", "GLN 0614141073468 has check digit 8, expected 7"),
        ({"epcList": ["https://id.gs1.org/01/10614141073465/21/1"]},
         "epcisBody.eventList[0].epcList[0]",
         "GTIN 10614141073465 has check digit 5, expected 4"),
        ({"type": "ThingEvent"}, "epcisBody.eventList[0].type", "'ThingEvent' is not a valid uri"),
        ({"colour": "red"}, "epcisBody.eventList[0].colour",
         "is not a field of this EPCIS type nor an extension (prefix:name)"),
    ],
)  # fmt: skip
def test_invalid_fields_are_named(change: dict[str, Any], field: str, reason: str) -> None:
    assert FieldProblem(field, reason) in problems_of(document([dict(EVENT, **change)]))


def test_missing_fields_and_document_shape() -> None:
    no_bizstep = {k: v for k, v in EVENT.items() if k != "bizStep"}
    (summary,) = parse_document(document([no_bizstep]))  # EPCIS makes bizStep optional
    assert summary.biz_step == ""
    no_time = {k: v for k, v in EVENT.items() if k != "eventTime"}
    assert problems_of(document([EVENT, EVENT, EVENT, no_time])) == [
        FieldProblem("epcisBody.eventList[3].eventTime", "required")
    ]
    assert problems_of([]) == [FieldProblem("", "an EPCIS document is a JSON object")]
    assert problems_of({"type": "EPCISQueryDocument"}) == [
        FieldProblem("type", "must be 'EPCISDocument', got 'EPCISQueryDocument'")
    ]
    bare = {"type": "EPCISDocument"}
    assert FieldProblem("@context", "required") in problems_of(bare)
    assert FieldProblem("epcisBody", "required") in problems_of(bare)
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


def test_ratified_schema_accepts_event_certification_info() -> None:
    """The February 2022 draft rejected event-level certificationInfo."""
    (one,) = parse_document(
        document([dict(EVENT, certificationInfo="https://example.com/certificates/1")])
    )
    assert one.type == "ObjectEvent"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"epcList": ["urn:epc:id:sgtin:0614141.107346.2018"] * 2},
         FieldProblem("epcisBody.eventList[0].epcList", "lists the same item twice")),
        ({"epcList": ["urn:epc:id:sgtin:0614141.107346.2018",
                      "https://id.gs1.org/01/10614141073464/21/2018"]},
         FieldProblem("epcisBody.eventList[0].epcList[1]", "names the same object as epcList[0]")),
        ({"bizTransactionList": [{"type": "po", "bizTransaction": "urn:example:po:1",
                                  "ex:note": "x"}]},
         FieldProblem("epcisBody.eventList[0].bizTransactionList[0].ex:note",
                      "is not a field here")),
        ({"persistentDisposition": {"set": []}},
         FieldProblem("epcisBody.eventList[0].persistentDisposition.set",
                      "must list at least 1 item")),
        ({"epcList": ["urn:epc:id:sgtin:0614141.107346."]},
         FieldProblem("epcisBody.eventList[0].epcList[0]",
                      "a sgtin EPC URI names one instance and needs a serial number")),
        ({"epcList": ["urn:epc:id:gdti:0614141.12345"]},
         FieldProblem("epcisBody.eventList[0].epcList[0]",
                      "a gdti EPC URI names one instance and needs a serial number")),
        ({"epcList": ["urn:epc:id:sgtin:0614141.10734.1"]},
         FieldProblem("epcisBody.eventList[0].epcList[0]",
                      "is not a well-formed sgtin EPC URI (company prefix and references of the "
                      "right lengths, allowed characters)")),
        ({"epcList": ["https://id.gs1.org/253/0614141123453400"]},
         FieldProblem("epcisBody.eventList[0].epcList[0]",
                      "GDTI 0614141123453 has check digit 3, expected 2")),
        ({"destinationList": [{"type": "location",
                               "destination": "https://id.gs1.org/414/0614141073468"}]},
         FieldProblem("epcisBody.eventList[0].destinationList[0].destination",
                      "GLN 0614141073468 has check digit 8, expected 7")),
    ],
)  # fmt: skip
def test_ratified_schema_and_semantic_checks(
    change: dict[str, Any], expected: FieldProblem
) -> None:
    assert expected in problems_of(document([dict(EVENT, **change)]))


@pytest.mark.parametrize(
    "change",
    [
        {"bizStep": "urn:example:bizstep:dancing"},
        {"bizStep": "https://example.com/steps/tasting"},
        {"disposition": "https://example.com/disp/ripe"},
        {"bizTransactionList": [{"type": "https://example.com/btt/contract",
                                 "bizTransaction": "urn:example:c:1"}]},
        {"sourceList": [{"type": "https://example.com/sdt/farm", "source": "urn:example:farm:1"}]},
    ],
)  # fmt: skip
def test_any_uri_names_a_vocabulary_term(change: dict[str, Any]) -> None:
    (one,) = parse_document(document([dict(EVENT, **change)]))
    assert one.hash == event_hash_bytes(dict(EVENT, **change), {"ex": "https://example.com/ns/"})


def test_compact_iris_are_expanded_before_validation_and_hashing() -> None:
    sensor = [{"sensorReport": [{"type": "gs1:Temperature", "value": 4, "uom": "CEL"}]}]
    compact = dict(EVENT, bizStep="cbv:BizStep-inspecting", disposition="cbv:Disp-active",
                   sensorElementList=sensor)  # fmt: skip
    bare = dict(EVENT, bizStep="inspecting", disposition="active",
                sensorElementList=[{"sensorReport": [dict(sensor[0]["sensorReport"][0],
                                                          type="Temperature")]}])  # fmt: skip
    (one,) = parse_document(document([compact]))
    (two,) = parse_document(document([bare]))
    assert (one.biz_step, one.disposition) == ("inspecting", "active")
    assert one.hash == two.hash
    # a prefix of the document's own @context wins over the standard one
    mine = dict(EVENT, bizStep="my:BizStep-inspecting")
    (three,) = parse_document(document([mine], {"my": "https://ref.gs1.org/cbv/"}))
    assert (
        three.biz_step == "inspecting"
        and three.hash == parse_document(document([dict(EVENT, bizStep="inspecting")]))[0].hash
    )


def test_problems_name_the_field_and_never_dump_the_event() -> None:
    big = dict(EVENT, **{f"ex:f{i}": "x" * 50 for i in range(30)})
    cases = [dict(big, action="MOVE"), {k: v for k, v in big.items() if k != "eventTime"},
             dict(big, readPoint={"id": "not a uri"}), dict(big, quantityList=[{"quantity": 1}]),
             dict(big, sensorElementList=[{"sensorMetadata": {}}]),
             dict(big, errorDeclaration={"reason": "incorrect_data"})]  # fmt: skip
    with pytest.raises(EpcisError) as info:
        parse_document(document(cases))
    problems = info.value.problems
    assert FieldProblem("epcisBody.eventList[1].eventTime", "required") in problems
    assert FieldProblem("epcisBody.eventList[3].quantityList[0].epcClass", "required") in problems
    assert (
        FieldProblem("epcisBody.eventList[4].sensorElementList[0].sensorReport", "required")
        in problems
    )
    assert (
        FieldProblem("epcisBody.eventList[5].errorDeclaration.declarationTime", "required")
        in problems
    )
    for p in problems:
        assert "{" not in p.reason and "xxxxxxxx" not in p.reason and len(p.reason) < 200, p
        assert p.field.startswith("epcisBody.eventList["), p


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"epcList": None},
         [FieldProblem("epcisBody.eventList[0]",
                       "needs one of epcList, quantityList, sensorElementList")]),
        ({"ilmd": {"ex:a": 1}}, [FieldProblem("epcisBody.eventList[0]",
                                              "this combination of action, ilmd is not allowed")]),
        ({"action": "MOVE"}, [FieldProblem("epcisBody.eventList[0].action",
                                           "'MOVE' is not one of 'OBSERVE', 'ADD', 'DELETE'")]),
        ({"bizStep": "urn:epcglobal:cbv:bizstep:shipping"},
         [FieldProblem("epcisBody.eventList[0].bizStep",
                       "'urn:epcglobal:cbv:bizstep:shipping' is not an allowed value here")]),
    ],
)  # fmt: skip
def test_one_clear_problem_per_field(change: dict[str, Any], expected: list[FieldProblem]) -> None:
    event = {k: v for k, v in dict(EVENT, **change).items() if v is not None}
    assert problems_of(document([event])) == expected


def test_deep_nesting_is_refused_without_a_traceback() -> None:
    deep: Any = "x"
    for _ in range(5000):
        deep = {"ex:n": deep}
    (problem,) = problems_of(document([dict(EVENT, **{"ex:n": deep})]))
    assert problem.field.startswith("epcisBody.eventList[0].ex:n.ex:n")
    assert problem.reason == "nests deeper than 32 levels of objects and lists"


def test_sgln_without_extension() -> None:
    assert problems_of(document([dict(EVENT, readPoint={"id": "urn:epc:id:sgln:0614141.07346"})]))[
        0
    ] == FieldProblem(
        "epcisBody.eventList[0].readPoint.id",
        "a sgln EPC URI names one instance and needs its extension ('0' for none)",
    )
