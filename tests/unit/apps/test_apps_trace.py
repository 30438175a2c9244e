"""The trace app: participants, locations, capture permissions, history, transactions."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest

from xinlian.apps.trace import history
from xinlian.codec import decode, encode
from xinlian.gs1.eventhash import hash_uri
from xinlian.sdk.trace import plan_capture
from xinlian.sdk.trace_sample import SampleChain, food_chain
from xinlian.types import Receipt, TxStatus
from xinlian.types.trace import CaptureArgs

ORGS = ("farm", "inspector", "processor", "distributor", "retailer", "reg")
GAS = 10_000_000


@pytest.fixture
def chain() -> SampleChain:
    return food_chain(3, lots=2, jars_per_case=4, cases=2)


@pytest.fixture
def tw(helpers: SimpleNamespace) -> Any:
    """A world whose organisations are the sample chain's, plus a regulator."""
    accounts = [(f"{o}-{s}", o, (s,)) for o in ORGS for s in ("admin", "writer")]
    accounts.append(("regulator", "reg", ("auditor",)))
    return helpers.World(helpers.make_genesis(orgs=ORGS, accounts=accounts))


def call(tw: Any, who: str, method: str, args: dict[str, Any] | bytes) -> Receipt:
    receipt: Receipt = tw.call(who, "trace", method, args, gas_limit=GAS)
    return receipt


def ok(receipt: Receipt) -> Receipt:
    assert receipt.status == TxStatus.OK, receipt.error
    return receipt


def setup(tw: Any, chain: SampleChain) -> None:
    for p in chain.parties:
        ok(call(tw, "regulator", "set_participant",
                {"org": p.org, "roles": [p.role], "gs1_prefixes": [p.prefix],
                 "ii_prefixes": [p.ii_prefix]}))  # fmt: skip
        for location, name in p.locations:
            ok(call(tw, f"{p.org}-admin", "register_location", {"id": location, "name": name}))


def capture(tw: Any, org: str, document: dict[str, Any]) -> Receipt:
    return call(tw, f"{org}-writer", "capture", plan_capture(document).raw_args())


def run_chain(tw: Any, chain: SampleChain) -> None:
    setup(tw, chain)
    for c in chain.captures:
        receipt = ok(capture(tw, c.org, c.document))
        n = len(c.document["epcisBody"]["eventList"])
        assert decode(receipt.output, dict) == {"count": n, "declared": 0}


def reader(tw: Any) -> Any:
    return lambda key: tw.read(b"trace/" + key)


def test_the_sample_chain_is_captured_and_queried(tw: Any, chain: SampleChain) -> None:
    run_chain(tw, chain)
    jar = chain.consumer_scan
    found = tw.query("trace", "item_events", {"id": jar, "start": 0, "limit": 100})
    steps = [e["biz_step"] for e in found["events"]]
    assert steps == ["commissioning", "packing", "unpacking", "retail_selling"]
    first = found["events"][0]
    assert first["type"] == "TransformationEvent" and first["org"] == "processor"
    assert first["anchor"]["height"] > 0 and len(first["anchor"]["tx_hash"]) == 64
    certs = tw.query("trace", "certificates", {"id": chain.lots[0]})
    assert [(c["org"], c["disposition"]) for c in certs] == [("inspector", "conformant")]
    location = tw.query("trace", "location", {"id": chain.parties[0].locations[0][0]})
    assert location == {"id": chain.parties[0].locations[0][0], "org": "farm",
                        "name": "farm site"}  # fmt: skip


def test_upstream_history_reaches_the_raw_materials(tw: Any, chain: SampleChain) -> None:
    run_chain(tw, chain)
    h = history(reader(tw), chain.consumer_scan, "upstream")
    relations = {i["id"]: i["relation"] for i in h["items"]}
    assert relations[chain.consumer_scan] == "start"
    for lot in chain.lots:
        assert relations[lot] == "made_from"
    certified = {i["id"]: i["certificates"] for i in h["items"] if i["certificates"]}
    inspections = plan_capture(chain.captures[1].document).events
    assert certified == {
        lot: [e.hash.hex()] for lot, e in zip(chain.lots, inspections, strict=True)
    }
    assert sum(1 for r in relations.values() if r == "packed_in") == 1
    steps = [e["biz_step"] for e in h["events"]]
    # per lot: harvest, inspection, shipping, receiving; then salt, making, packing, case
    # moves (processor shipping, distributor x3, retail receiving), unpacking and the sale.
    assert steps.count("inspecting") == 2 and steps.count("commissioning") == 2 + 1 + 1
    assert "retail_selling" in steps and "storing" in steps
    times = [e["time_ms"] for e in h["events"]]
    assert times == sorted(times) and not h["truncated"]
    other_case_jars = [e for e in h["events"] if e["type"] == "AggregationEvent"]
    assert len(other_case_jars) == 2  # packing and unpacking of this jar's case only


def test_downstream_recall_reaches_every_jar_and_case(tw: Any, chain: SampleChain) -> None:
    run_chain(tw, chain)
    h = history(reader(tw), chain.lots[1], "downstream")
    made = [i["id"] for i in h["items"] if i["relation"] == "made_into"]
    cases = [i["id"] for i in h["items"] if i["relation"] == "packed_in"]
    assert len(made) == 8 and len(cases) == 2
    assert all(m.startswith("https://id.gs1.org/01/") for m in made)
    assert all(c.startswith("https://id.gs1.org/00/") for c in cases)
    limited = history(reader(tw), chain.lots[1], "downstream", max_events=3)
    assert limited["truncated"] and len(limited["events"]) == 3
    with pytest.raises(ValueError, match="direction must be one of"):
        history(reader(tw), chain.lots[1], "sideways")


def test_only_regulators_register_participants(tw: Any, chain: SampleChain) -> None:
    args = {"org": "farm", "roles": ["producer"], "gs1_prefixes": ["6901234"], "ii_prefixes": []}
    r = call(tw, "farm-admin", "set_participant", args)
    assert r.status == TxStatus.PERMISSION_DENIED
    assert r.error == (
        "only a regulator (an account with the auditor role) registers trace participants"
    )
    r = call(tw, "regulator", "set_participant", dict(args, roles=["wizard"]))
    assert r.status == TxStatus.INVALID_ARGS and "unknown trace role 'wizard'" in r.error
    r = call(tw, "regulator", "set_participant", dict(args, org="nobody"))
    assert r.error == "no organisation 'nobody'"
    r = call(tw, "regulator", "set_participant", dict(args, gs1_prefixes=["12ab"]))
    assert r.error == "GS1 company prefix '12ab' must be 6-12 digits"


def test_capture_permissions(tw: Any, chain: SampleChain) -> None:
    harvest = chain.captures[0].document
    r = capture(tw, "farm", harvest)
    assert r.status == TxStatus.PERMISSION_DENIED
    assert r.error == (
        "organisation 'farm' is not a trace participant; a regulator registers it with "
        "trace.set_participant"
    )
    setup(tw, chain)
    r = capture(tw, "retailer", harvest)  # commissioning is not a retailer's step
    assert r.status == TxStatus.PERMISSION_DENIED
    assert r.error == (
        "events[0]: organisation 'retailer' (trace roles ['retailer']) may not capture "
        "business step 'commissioning'"
    )
    r = capture(tw, "processor", harvest)  # a processor may commission, but not on the farm
    farm_site = chain.parties[0].locations[0][0]
    assert (
        r.error
        == f"events[0].readPoint {farm_site} belongs to organisation 'farm', not 'processor'"
    )
    elsewhere = copy.deepcopy(harvest)
    unknown = "https://id.gs1.org/414/6901234000993"
    for e in elsewhere["epcisBody"]["eventList"]:
        e["readPoint"] = {"id": unknown}
    r = capture(tw, "farm", elsewhere)
    assert r.error == f"events[0].readPoint {unknown} is not a registered location"
    ok(capture(tw, "farm", harvest))
    r = capture(tw, "farm", harvest)
    first = plan_capture(harvest).events[0].hash.hex()
    assert r.status == TxStatus.INVALID_ARGS and r.error.startswith(
        f"events[0] {first} is already anchored (transaction "
    )
    r = capture(tw, "distributor", chain.captures[1].document)  # inspection: not a distributor
    assert r.status == TxStatus.PERMISSION_DENIED


def test_locations_are_under_the_owners_prefix(tw: Any, chain: SampleChain) -> None:
    setup(tw, chain)
    theirs = chain.parties[2].locations[0][0]
    r = call(tw, "farm-admin", "register_location", {"id": theirs, "name": "x"})
    assert r.status == TxStatus.PERMISSION_DENIED
    assert r.error.startswith(f"location {theirs} is not under a GS1 company prefix of")
    r = call(tw, "farm-admin", "register_location",
             {"id": "urn:epc:id:sgln:6901234.00001.7", "name": "gate 7"})  # fmt: skip
    assert decode(ok(r).output, str) == chain.parties[0].locations[0][0] + "/254/7"
    r = call(tw, "farm-writer", "register_location", {"id": theirs, "name": "x"})
    assert r.status == TxStatus.PERMISSION_DENIED and "lacks role 'admin'" in r.error


def test_error_declaration_marks_the_event(tw: Any, chain: SampleChain) -> None:
    setup(tw, chain)
    harvest = chain.captures[0].document
    ok(capture(tw, "farm", harvest))
    declared = copy.deepcopy(harvest)
    del declared["epcisBody"]["eventList"][1:]
    declared["epcisBody"]["eventList"][0]["errorDeclaration"] = {
        "declarationTime": "2026-06-02T00:00:00Z",
        "reason": "incorrect_data",
    }
    digest = plan_capture(declared).events[0].hash
    assert digest == plan_capture(harvest).events[0].hash  # the declaration is not hashed
    r = capture(tw, "processor", declared)
    assert r.status == TxStatus.PERMISSION_DENIED  # not the farm's location, not its event
    receipt = ok(capture(tw, "farm", declared))
    assert decode(receipt.output, dict) == {"count": 0, "declared": 1}
    record = tw.query("trace", "event", {"hash": digest})
    assert record["error"]["reason"] == "incorrect_data"
    r = capture(tw, "farm", declared)
    assert r.error == f"events[0] {digest.hex()} is already declared erroneous"


def test_capture_arguments_are_checked(tw: Any, chain: SampleChain) -> None:
    setup(tw, chain)
    plan = plan_capture(chain.captures[0].document)
    a = plan.args.events[0]
    twice = CaptureArgs([a, a])
    r = call(tw, "farm-writer", "capture", encode(twice))
    assert r.error == f"events[1] {a.hash.hex()} appears twice in this capture"
    nowhere = CaptureArgs([a.__class__(**{**_fields(a), "read_point": "", "biz_location": ""})])
    r = call(tw, "farm-writer", "capture", encode(nowhere))
    assert r.error == "events[0] needs a readPoint or bizLocation (events are captured at a place)"
    short = CaptureArgs([a.__class__(**{**_fields(a), "hash": b"\x01"})])
    assert call(tw, "farm-writer", "capture", encode(short)).error == (
        "events[0].hash must be 32 bytes (SHA-256)"
    )
    assert call(tw, "farm-writer", "capture", encode(CaptureArgs([]))).error == (
        "give 1-1000 events, got 0"
    )


def _fields(a: Any) -> dict[str, Any]:
    return {f: getattr(a, f) for f in a.__struct_fields__}


def test_business_transactions_are_agreed_by_all_parties(tw: Any, chain: SampleChain) -> None:
    setup(tw, chain)
    po, kind, opener, others = chain.transactions[0]
    ok(call(tw, f"{opener}-writer", "open_transaction",
            {"id": po, "kind": kind, "parties": others, "ref": ""}))  # fmt: skip
    r = call(tw, "retailer-writer", "agree", {"id": po, "status": "confirmed"})
    assert r.status == TxStatus.PERMISSION_DENIED
    assert r.error == f"organisation 'retailer' is not a party to {po!r}"
    r = call(tw, "farm-writer", "agree", {"id": po, "status": "shipped"})
    assert (
        r.error
        == f"transaction {po!r} is proposed; the next status is 'confirmed' (or 'cancelled')"
    )
    assert decode(ok(call(tw, "farm-writer", "agree", {"id": po, "status": "confirmed"})).output,
                  str) == "proposed"  # fmt: skip
    assert decode(ok(call(tw, "processor-writer", "agree", {"id": po, "status": "confirmed"}))
                  .output, str) == "confirmed"  # fmt: skip
    ok(capture(tw, "farm", chain.captures[0].document))
    ok(capture(tw, "farm", chain.captures[2].document))  # shipping names the PO
    bt = tw.query("trace", "transaction", {"id": po})
    assert bt["status"] == "confirmed" and bt["parties"] == ["farm", "processor"]
    assert bt["votes"] == {"farm": "confirmed", "processor": "confirmed"}
    assert [e["biz_step"] for e in bt["events"]] == ["shipping", "shipping"]
    ok(call(tw, "processor-writer", "agree", {"id": po, "status": "cancelled"}))
    r = call(tw, "farm-writer", "agree", {"id": po, "status": "shipped"})
    assert r.error == f"transaction {po!r} is cancelled; it cannot change any more"


def test_industrial_internet_ids_map_to_gs1_ids(tw: Any, chain: SampleChain) -> None:
    run_chain(tw, chain)
    farm = chain.parties[0]
    ii = f"{farm.ii_prefix}/LOT-A"
    r = call(tw, "farm-writer", "map_identifier", {"ii_id": ii, "gs1_id": chain.lots[0]})
    assert decode(ok(r).output, str) == chain.lots[0]
    assert tw.query("trace", "resolve", {"id": ii}) == chain.lots[0]
    found = tw.query("trace", "item_events", {"id": ii, "start": 0, "limit": 10})
    assert found["id"] == chain.lots[0] and found["total"] == 5  # 4 + the transformation
    r = call(tw, "processor-writer", "map_identifier", {"ii_id": f"{farm.ii_prefix}/X",
                                                        "gs1_id": chain.lots[0]})  # fmt: skip
    assert (
        r.error == f"enterprise prefix {farm.ii_prefix} does not belong to organisation 'processor'"
    )
    r = call(tw, "farm-writer", "map_identifier", {"ii_id": ii, "gs1_id": chain.lots[1]})
    assert r.error == f"{ii} is already mapped"
    assert hash_uri(b"\x00" * 32).startswith("ni:///sha-256;0000")


def test_big_documents_are_split_to_fit_transactions(tw: Any) -> None:
    from xinlian.sdk.trace import split_document

    big = food_chain(8, lots=700).captures[0].document  # 700 harvests: ~150 KB of anchors
    parts = split_document(big)
    assert len(parts) == 3
    assert sum(len(p["epcisBody"]["eventList"]) for p in parts) == 700
    assert all(len(plan_capture(p).raw_args()) <= 60_000 for p in parts)
    joined = [e for p in parts for e in p["epcisBody"]["eventList"]]
    assert joined == big["epcisBody"]["eventList"]
    assert split_document(food_chain(8, lots=3).captures[0].document)[0]["type"] == "EPCISDocument"


def test_containers_count_only_while_they_hold_the_item(tw: Any, chain: SampleChain) -> None:
    run_chain(tw, chain)
    retail = chain.captures[-1].document["epcisBody"]["eventList"]
    case = next(e["parentID"] for e in retail if e["type"] == "AggregationEvent")
    later = {
        "@context": chain.captures[-1].document["@context"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-07-01T00:00:00Z",
        "epcisBody": {"eventList": [{
            "type": "ObjectEvent", "eventTime": "2026-07-01T10:00:00+08:00",
            "eventTimeZoneOffset": "+08:00", "action": "DELETE", "epcList": [case],
            "bizStep": "destroying", "readPoint": retail[0]["readPoint"],
        }]},
    }  # fmt: skip
    ok(capture(tw, "retailer", later))
    jar = chain.consumer_scan
    steps = [e["biz_step"] for e in history(reader(tw), jar, "upstream")["events"]]
    assert "destroying" not in steps and "retail_selling" in steps
    own = [e["biz_step"] for e in history(reader(tw), case, "upstream")["events"]]
    assert own[-1] == "destroying"
