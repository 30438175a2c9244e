"""Seeded random EPCIS 2.0 events for the event-hash and validation tests.

``random_event`` draws an event of any of the five types with most optional fields;
``rewrite`` writes the same event differently (key order, list order, EPC URN or Digital
Link, bare CBV words, CBV URNs or web URIs, another time zone, other number spellings),
which must not change its CBV 2.0 hash.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from xinlian.gs1.identifiers import check_digit

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACE = "https://example.com/ns/"

BIZ_STEPS = ["commissioning", "shipping", "receiving", "packing", "inspecting", "storing"]
DISPOSITIONS = ["active", "in_transit", "in_progress", "conformant", "sellable_accessible"]
SERIAL_CHARS = "abcXYZ0123456789-_"


def _cp(r: random.Random) -> str:
    return str(r.randrange(10**5, 10**9)).zfill(7)


def _sgtin(r: random.Random) -> tuple[str, str]:
    """An SGTIN as (EPC URN, Digital Link)."""
    cp = _cp(r)
    ir = str(r.randrange(10 ** (13 - len(cp)))).zfill(13 - len(cp))
    serial = "".join(r.choice(SERIAL_CHARS) for _ in range(r.randint(1, 12)))
    raw = ir[0] + cp + ir[1:]
    gtin = raw + str(check_digit(raw))
    return f"urn:epc:id:sgtin:{cp}.{ir}.{serial}", f"https://id.gs1.org/01/{gtin}/21/{serial}"


def _lgtin(r: random.Random) -> tuple[str, str]:
    cp = _cp(r)
    ir = str(r.randrange(10 ** (13 - len(cp)))).zfill(13 - len(cp))
    lot = "L" + str(r.randrange(10**6))
    raw = ir[0] + cp + ir[1:]
    gtin = raw + str(check_digit(raw))
    return f"urn:epc:class:lgtin:{cp}.{ir}.{lot}", f"https://id.gs1.org/01/{gtin}/10/{lot}"


def _sscc(r: random.Random) -> tuple[str, str]:
    cp = _cp(r)
    ref = str(r.randrange(10 ** (17 - len(cp)))).zfill(17 - len(cp))
    raw = ref[0] + cp + ref[1:]
    return f"urn:epc:id:sscc:{cp}.{ref}", f"https://id.gs1.org/00/{raw}{check_digit(raw)}"


def _sgln(r: random.Random, ext: str = "0") -> tuple[str, str]:
    cp = _cp(r)
    ref = str(r.randrange(10 ** (12 - len(cp)))).zfill(12 - len(cp))
    gln = cp + ref
    dl = f"https://id.gs1.org/414/{gln}{check_digit(gln)}"
    return f"urn:epc:id:sgln:{cp}.{ref}.{ext}", dl if ext == "0" else f"{dl}/254/{ext}"


def _pgln(r: random.Random) -> tuple[str, str]:
    cp = _cp(r)
    ref = str(r.randrange(10 ** (12 - len(cp)))).zfill(12 - len(cp))
    gln = cp + ref
    return f"urn:epc:id:pgln:{cp}.{ref}", f"https://id.gs1.org/417/{gln}{check_digit(gln)}"


def _time(r: random.Random) -> tuple[str, str]:
    moment = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
        seconds=r.randrange(10**8), milliseconds=r.randrange(1000)
    )
    hours = r.choice([0, 1, 8, -5])
    local = moment.astimezone(timezone(timedelta(hours=hours)))
    text = local.isoformat(timespec="milliseconds")
    offset = f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:00"
    return text, offset


def _quantity(r: random.Random) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": r.choice(_lgtin(r)), "quantity": r.randint(1, 500)}
    if r.random() < 0.7:
        element["uom"] = r.choice(["KGM", "LTR", "EA"])
    return element


def _ids(r: random.Random, make: Any, n: int) -> list[str]:
    return [r.choice(make(r)) for _ in range(n)]


def random_event(r: random.Random) -> dict[str, Any]:
    """One random event (EPC identifiers in URN or Digital Link form at random)."""
    kind = r.choice(
        ["ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent",
         "AssociationEvent"]
    )  # fmt: skip
    when, offset = _time(r)
    event: dict[str, Any] = {"type": kind, "eventTime": when, "eventTimeZoneOffset": offset}
    if kind == "TransformationEvent":
        event["inputEPCList"] = _ids(r, _sgtin, r.randint(1, 3))
        if r.random() < 0.5:
            event["inputQuantityList"] = [_quantity(r) for _ in range(r.randint(1, 2))]
        event["outputEPCList"] = _ids(r, _sgtin, r.randint(1, 3))
        if r.random() < 0.5:
            event["outputQuantityList"] = [_quantity(r)]
        if r.random() < 0.3:
            event["transformationID"] = f"urn:example:xform:{r.randrange(10**6)}"
    else:
        event["action"] = r.choice(["ADD", "OBSERVE", "DELETE"])
        if kind in ("AggregationEvent", "AssociationEvent"):
            event["parentID"] = r.choice(_sscc(r))
            event["childEPCs"] = _ids(r, _sgtin, r.randint(1, 4))
            if r.random() < 0.3:
                event["childQuantityList"] = [_quantity(r)]
        else:
            event["epcList"] = _ids(r, _sgtin, r.randint(0, 4))
            if r.random() < 0.5:
                event["quantityList"] = [_quantity(r) for _ in range(r.randint(1, 2))]
            if kind == "TransactionEvent" and r.random() < 0.5:
                event["parentID"] = r.choice(_sscc(r))
    event["bizStep"] = r.choice(BIZ_STEPS)
    if r.random() < 0.8:
        event["disposition"] = r.choice(DISPOSITIONS)
    if r.random() < 0.2 and kind in ("ObjectEvent", "TransformationEvent"):
        event["persistentDisposition"] = {
            "set": ["https://ref.gs1.org/cbv/Disp-completeness_verified"],
            "unset": ["https://ref.gs1.org/cbv/Disp-completeness_inferred"],
        }
    event["readPoint"] = {"id": r.choice(_sgln(r, r.choice(["0", "dock1", "7"])))}
    if r.random() < 0.8:
        event["bizLocation"] = {"id": r.choice(_sgln(r))}
    if kind == "TransactionEvent" or r.random() < 0.4:
        event["bizTransactionList"] = [
            {"type": r.choice(["po", "desadv", "inv"]),
             "bizTransaction": f"urn:epcglobal:cbv:bt:{_sgln(r)[1][-13:]}:{r.randrange(999)}"}
            for _ in range(r.randint(1, 2))
        ]  # fmt: skip
    if r.random() < 0.3:
        event["sourceList"] = [{"type": "owning_party", "source": r.choice(_pgln(r))}]
        event["destinationList"] = [
            {"type": "possessing_party", "destination": r.choice(_pgln(r))},
            {"type": "location", "destination": r.choice(_sgln(r))},
        ]
    if r.random() < 0.3:
        t1, _ = _time(r)
        event["sensorElementList"] = [
            {
                "sensorMetadata": {"time": t1, "deviceID": f"urn:example:dev:{r.randrange(99)}"},
                "sensorReport": [
                    {"type": "Temperature", "value": round(r.uniform(-20, 30), 1), "uom": "CEL"},
                    {"type": "RelativeHumidity", "value": r.randint(10, 90), "uom": "A93"},
                ],
            }
        ]
    if r.random() < 0.3 and kind in ("ObjectEvent", "TransformationEvent"):
        if kind == "ObjectEvent":
            event["action"] = "ADD"
        event["ilmd"] = {"ex:harvestDate": "2024-02-28", "ex:farm": f"F{r.randrange(99)}"}
    if r.random() < 0.3:
        event["ex:temperatureLog"] = {"ex:max": str(r.randint(1, 9)), "ex:unit": "C"}
    if r.random() < 0.2:
        event["eventID"] = f"urn:uuid:{r.randrange(10**12):012d}-0000-4000-8000-000000000000"
        event["recordTime"] = _time(r)[0]
    return event


_URN_FORMS = {
    "bizStep": "urn:epcglobal:cbv:bizstep:",
    "disposition": "urn:epcglobal:cbv:disp:",
}
_WEB_FORMS = {
    "bizStep": "https://ref.gs1.org/cbv/BizStep-",
    "disposition": "https://ref.gs1.org/cbv/Disp-",
}


def rewrite(event: dict[str, Any], r: random.Random) -> dict[str, Any]:
    """The same event written differently (must hash equal)."""
    e = copy.deepcopy(event)
    for value in e.values():
        if isinstance(value, list):
            r.shuffle(value)
    for key in ("bizStep", "disposition"):
        if key in e and r.random() < 0.7:
            e[key] = r.choice([_URN_FORMS[key], _WEB_FORMS[key]]) + e[key]
    if r.random() < 0.5:  # the same moment in another zone (eventTimeZoneOffset unchanged)
        moment = datetime.fromisoformat(e["eventTime"])
        e["eventTime"] = (
            moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
    for key in ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList"):
        for q in e.get(key, []):
            q["quantity"] = float(q["quantity"])
    items = list(e.items())
    r.shuffle(items)
    return dict(items)


def document(
    events: list[dict[str, Any]], prefixes: dict[str, str] | None = None
) -> dict[str, Any]:
    """An EPCIS 2.0 document carrying ``events`` (extension prefix ``ex`` and ``prefixes``)."""
    return {
        "@context": [CONTEXT, {"ex": NAMESPACE, **(prefixes or {})}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-06-01T00:00:00Z",
        "epcisBody": {"eventList": events},
    }
