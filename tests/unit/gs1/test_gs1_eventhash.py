"""The CBV 2.0 event hash against the independent ``epcis-event-hash-generator`` package."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from epcis_corpus import NAMESPACE, document, random_event, rewrite
from epcis_event_hash_generator import hash_generator, json_to_py

from xinlian.gs1.eventhash import event_hash, event_hash_bytes, prehash, time_ms

NS = {"ex": NAMESPACE}
# The reference package loads its bundled JSON-LD context with a deprecated importlib call.
pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")


def reference_hash(event: dict[str, Any], prefixes: dict[str, str] | None = None) -> str:
    """The reference package's hash of ``event`` inside a one-event document."""
    json_to_py._namespaces = {}  # the package keeps prefixes in a module global
    doc = document([event], prefixes)
    events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(doc))
    (digest,) = hash_generator.epcis_hashes_from_events(events)
    return str(digest)


FIXED: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2024-03-01T10:00:00.123456+08:00",
    "eventTimeZoneOffset": "+08:00",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2018", "https://id.gs1.org/01/09520123456788/21/a"],
    "action": "ADD",
    "bizStep": "commissioning",
    "disposition": "active",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    "bizLocation": {"id": "urn:epc:id:sgln:0614141.07346.0"},
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:1"}
    ],
    "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200.0,
                      "uom": "KGM"}],
    "ilmd": {"ex:harvestDate": "2024-02-28"},
    "sensorElementList": [{"sensorMetadata": {"time": "2024-03-01T10:00:00+08:00"},
                           "sensorReport": [{"type": "Temperature", "value": 4.50, "uom": "CEL"}]}],
}  # fmt: skip


def test_fixed_event_prehash_and_hash() -> None:
    pre = prehash(FIXED, NS)
    assert pre == (
        "eventType=ObjectEvent"
        "eventTime=2024-03-01T02:00:00.123Z"
        "eventTimeZoneOffset=+08:00"
        "epcListepc=https://id.gs1.org/01/09520123456788/21/a"
        "epc=https://id.gs1.org/01/10614141073464/21/2018"
        "quantityListquantityElementepcClass=https://id.gs1.org/01/04012345123456/10/998877"
        "quantity=200uom=KGM"
        "action=ADD"
        "bizStep=https://ref.gs1.org/cbv/BizStep-commissioning"
        "disposition=https://ref.gs1.org/cbv/Disp-active"
        "readPointid=https://id.gs1.org/414/0614141073467/254/1234"
        "bizLocationid=https://id.gs1.org/414/0614141073467"
        "sensorElementListsensorElementsensorMetadatatime=2024-03-01T02:00:00.000Z"
        "sensorReporttype=https://gs1.org/voc/Temperaturevalue=4.5uom=CEL"
        "bizTransactionListtype=https://ref.gs1.org/cbv/BTT-po"
        "bizTransaction=urn:epcglobal:cbv:bt:0614141073467:1"
        "ilmd{https://example.com/ns/}harvestDate=2024-02-28"
    )
    assert event_hash(FIXED, NS) == reference_hash(FIXED)
    assert event_hash(FIXED, NS) == (
        "ni:///sha-256;" + event_hash_bytes(FIXED, NS).hex() + "?ver=CBV2.0"
    )


@pytest.mark.parametrize("seed", range(6))
def test_random_events_match_the_reference(seed: int) -> None:
    r = random.Random(seed)
    for _ in range(60):
        event = random_event(r)
        assert event_hash(event, NS) == reference_hash(event), event


@pytest.mark.parametrize("seed", range(4))
def test_rewritten_events_hash_equal(seed: int) -> None:
    r = random.Random(1000 + seed)
    for _ in range(50):
        event = random_event(r)
        other = rewrite(event, r)
        assert event_hash(other, NS) == event_hash(event, NS)
        assert reference_hash(other) == event_hash(event, NS)


def test_equal_despite_forms() -> None:
    a = dict(FIXED, bizStep="urn:epcglobal:cbv:bizstep:commissioning")
    b = dict(FIXED, bizStep="https://ref.gs1.org/cbv/BizStep-commissioning")
    c = dict(FIXED, eventTime="2024-03-01T02:00:00.123Z", epcList=FIXED["epcList"][::-1])
    d = dict(FIXED, epcList=["https://example.com/gtin/10614141073464/ser/2018?x=1",
                             "https://id.gs1.org/01/09520123456788/21/a"])  # fmt: skip
    assert len({event_hash(e, NS) for e in (FIXED, a, b, c, d)}) == 1


def test_excluded_fields_do_not_change_the_hash() -> None:
    declared = dict(
        FIXED,
        eventID="urn:uuid:1",
        recordTime="2025-01-01T00:00:00Z",
        errorDeclaration={"declarationTime": "2025-01-02T00:00:00Z", "reason": "incorrect_data"},
    )
    assert event_hash(declared, NS) == event_hash(FIXED, NS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action", "OBSERVE"),
        ("bizStep", "shipping"),
        ("eventTime", "2024-03-01T10:00:00.124+08:00"),
        ("readPoint", {"id": "urn:epc:id:sgln:0614141.07346.1235"}),
        ("ilmd", {"ex:harvestDate": "2024-02-29"}),
    ],
)
def test_any_change_changes_the_hash(field: str, value: Any) -> None:
    assert event_hash(dict(FIXED, **{field: value}), NS) != event_hash(FIXED, NS)


def test_time_rounding_and_zones() -> None:
    assert time_ms("1970-01-01T00:00:01.0005Z") == 1000  # half to even
    assert time_ms("1970-01-01T00:00:01.0015Z") == 1002
    assert time_ms("1970-01-01T08:00:00+08:00") == 0
    # 999.6 ms rounds into the next second (the reference package fails on this one)
    pre = prehash(dict(FIXED, eventTime="2024-03-01T10:00:00.9996+08:00"), NS)
    assert "eventTime=2024-03-01T02:00:01.000Z" in pre
    with pytest.raises(ValueError, match="not a date-time with a time zone"):
        time_ms("2024-03-01T10:00:00")


HASH_NS = "https://example.com/vocab#"
PLACEMENTS: list[tuple[str, Any]] = [
    ("readPoint", lambda v: {"readPoint": {"id": FIXED["readPoint"]["id"], "h:note": v}}),
    ("bizLocation", lambda v: {"bizLocation": {"id": FIXED["bizLocation"]["id"], "h:note": v}}),
    ("readPoint, one name holding 'action'",
     lambda v: {"readPoint": {"id": FIXED["readPoint"]["id"], "ex:transaction": v, "ex:b": "1"}}),
    ("readPoint, undeclared prefix",
     lambda v: {"readPoint": {"id": FIXED["readPoint"]["id"], "zz:note": v}}),
    ("sensorMetadata", lambda v: {"sensorElementList": [
        {"sensorMetadata": {"time": "2024-03-01T10:00:00Z", "h:note": v},
         "sensorReport": [{"type": "Temperature", "value": 1}]}]}),
    ("sensorMetadata alone", lambda v: {"sensorElementList": [
        {"sensorMetadata": {"h:note": v}, "sensorReport": [{"type": "Temperature", "value": 1}]}]}),
    ("sensorReport", lambda v: {"sensorElementList": [
        {"sensorReport": [{"type": "Temperature", "value": 1, "h:note": v}]}]}),
    ("sensorElement", lambda v: {"sensorElementList": [
        {"sensorReport": [{"type": "Temperature", "value": 1}], "h:note": v}]}),
    ("persistentDisposition",
     lambda v: {"persistentDisposition": {"set": ["active"], "h:note": v}}),
    ("ilmd", lambda v: {"ilmd": {"h:note": v}}),
    ("event", lambda v: {"h:note": v}),
]  # fmt: skip


@pytest.mark.parametrize(("where", "make"), PLACEMENTS, ids=[p[0] for p in PLACEMENTS])
def test_extensions_are_hashed_wherever_they_are(where: str, make: Any) -> None:
    """An extension's value is part of the hash in every placement, whatever its namespace
    IRI ends with (the old renderer dropped ``...#`` namespaces inside readPoint)."""
    ns = {**NS, "h": HASH_NS}
    one, two = dict(FIXED, **make("5")), dict(FIXED, **make("6"))
    assert event_hash(one, ns) != event_hash(two, ns), where
    assert event_hash(one, ns) == reference_hash(one, {"h": HASH_NS}), where


def test_lists_inside_extensions_nest_their_items() -> None:
    """An extension holding a list of elements renders each item under the element's name
    (``ex:itemList`` holds ``ex:item`` elements, as in EPCIS XML)."""
    event = dict(
        FIXED,
        **{"ex:box": {"ex:part": [{"ex:no": "1"}, {"ex:no": "2"}]},
           "ex:itemList": [{"ex:a": "1", "ex:b": 2}, {"ex:a": "3"}]},
    )  # fmt: skip
    pre = prehash(event, NS)
    n = "{https://example.com/ns/}"
    assert f"{n}box{n}part{n}no=1{n}part{n}no=2" in pre
    assert f"{n}itemList{n}item{n}a=1{n}b=2{n}item{n}a=3" in pre
    assert event_hash(event, NS) == reference_hash(event)
