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


# RICH EVENTS: every identifier scheme, extensions in every placement

HASH_NAMESPACE = "https://example.com/h#"
PREFIXES = {"h": HASH_NAMESPACE}


def _digits(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789") for _ in range(n))


def _serial(r: random.Random, n: int) -> str:
    return "".join(r.choice(SERIAL_CHARS) for _ in range(r.randint(1, n)))


def _with_check(digits: str) -> str:
    return digits + str(check_digit(digits))


def any_id(r: random.Random, kinds: tuple[str, ...]) -> tuple[str, str]:
    """An identifier of one of ``kinds`` as (EPC URI, canonical Digital Link), built from
    TDS 2.0 (company prefixes of 6-11 digits)."""
    kind = r.choice(kinds)
    n = r.randint(6, 11)
    cp = _digits(r, n)
    ir, ref = _digits(r, 13 - n), _digits(r, 12 - n)
    gtin = _with_check(ir[0] + cp + ir[1:])
    key12 = _with_check(cp + ref)
    s = _serial(r, 12)
    dl = "https://id.gs1.org"
    table = {
        "sgtin": (f"urn:epc:id:sgtin:{cp}.{ir}.{s}", f"{dl}/01/{gtin}/21/{s}"),
        "lgtin": (f"urn:epc:class:lgtin:{cp}.{ir}.{s}", f"{dl}/01/{gtin}/10/{s}"),
        "idpat:sgtin": (f"urn:epc:idpat:sgtin:{cp}.{ir}.*", f"{dl}/01/{gtin}"),
        "sscc": (f"urn:epc:id:sscc:{cp}.{ir[0]}{_digits(r, 16 - n)}", ""),
        "sgln": (f"urn:epc:id:sgln:{cp}.{ref}.{s}", f"{dl}/414/{key12}/254/{s}"),
        "pgln": (f"urn:epc:id:pgln:{cp}.{ref}", f"{dl}/417/{key12}"),
        "grai": (f"urn:epc:id:grai:{cp}.{ref}.{s}", f"{dl}/8003/0{key12}{s}"),
        "giai": (f"urn:epc:id:giai:{cp}.{s}", f"{dl}/8004/{cp}{s}"),
        "gsrn": (f"urn:epc:id:gsrn:{cp}.{_digits(r, 17 - n)}", ""),
        "gsrnp": (f"urn:epc:id:gsrnp:{cp}.{_digits(r, 17 - n)}", ""),
        "gdti": (f"urn:epc:id:gdti:{cp}.{ref}.{s}", f"{dl}/253/{key12}{s}"),
        "cpi": (f"urn:epc:id:cpi:{cp}.{_digits(r, 3)}A-B.{_digits(r, 4)}", ""),
        "sgcn": (f"urn:epc:id:sgcn:{cp}.{ref}.{_digits(r, 5)}", ""),
        "ginc": (f"urn:epc:id:ginc:{cp}.{s}", f"{dl}/401/{cp}{s}"),
        "gsin": (f"urn:epc:id:gsin:{cp}.{_digits(r, 16 - n)}", ""),
        "itip": (f"urn:epc:id:itip:{cp}.{ir}.01.02.{s}", f"{dl}/8006/{gtin}0102/21/{s}"),
        "upui": (f"urn:epc:id:upui:{cp}.{ir}.{s}", f"{dl}/01/{gtin}/235/{s}"),
        "idpat:grai": (f"urn:epc:idpat:grai:{cp}.{ref}.*", f"{dl}/8003/0{key12}"),
        "idpat:gdti": (f"urn:epc:idpat:gdti:{cp}.{ref}.*", f"{dl}/253/{key12}"),
        "idpat:itip": (f"urn:epc:idpat:itip:{cp}.{ir}.01.02.*", f"{dl}/8006/{gtin}0102"),
    }
    urn, link = table[kind]
    if not link:  # keys whose digits are laid out differently: build from the URN parts
        body = urn.split(":")[4]
        head, tail = body.split(".", 1)
        if kind == "sscc":
            link = f"{dl}/00/{_with_check(tail[0] + head + tail[1:])}"
        elif kind in ("gsrn", "gsrnp", "gsin"):
            ai = {"gsrn": "8018", "gsrnp": "8017", "gsin": "402"}[kind]
            link = f"{dl}/{ai}/{_with_check(head + tail)}"
        elif kind == "cpi":
            cpref, serial = tail.split(".")
            link = f"{dl}/8010/{head}{cpref}/8011/{serial}"
        elif kind == "sgcn":
            cr, serial = tail.split(".")
            link = f"{dl}/255/{_with_check(head + cr)}{serial}"
    return urn, link


INSTANCE_KINDS = ("sgtin", "sscc", "grai", "giai", "gsrn", "gsrnp", "gdti", "cpi", "sgcn",
                  "ginc", "gsin", "itip", "upui")  # fmt: skip
CLASS_KINDS = ("lgtin", "idpat:sgtin", "idpat:grai", "idpat:gdti", "idpat:itip")


def _pick(r: random.Random, kinds: tuple[str, ...]) -> str:
    return r.choice(any_id(r, kinds))


def _ext_value(r: random.Random, depth: int = 0) -> Any:
    """A random extension value: scalars of every JSON type, URIs and EPCs, times,
    nested elements, lists of elements and lists of scalars."""
    roll = r.random()
    if depth < 2 and roll < 0.15:
        return {_ext_name(r): _ext_value(r, depth + 1) for _ in range(r.randint(1, 3))}
    if depth < 2 and roll < 0.25:
        return [{_ext_name(r): _ext_value(r, depth + 1)} for _ in range(r.randint(1, 3))]
    if roll < 0.32:
        return [f"V{r.randrange(10**4)}" for _ in range(r.randint(1, 3))]
    choices: list[Any] = [
        f"V{r.randrange(10**6)}", r.randint(-10**6, 10**6), round(r.uniform(-1000, 1000), 2),
        r.choice([True, False]), f"{r.randrange(10**4)}.{r.randrange(100):02d}",
        _pick(r, INSTANCE_KINDS), "2024-05-01T08:00:00.250+08:00", "urn:example:x:1",
        "https://example.com/things/7", " padded ", "",
    ]  # fmt: skip
    return r.choice(choices)


def _ext_name(r: random.Random) -> str:
    prefix = r.choice(["ex", "ex", "h"])
    local = r.choice(["note", "grade", "batch", "itemList", "part", "temp", "origin", "tag"])
    return f"{prefix}:{local}{r.choice(['', '', '2', 'X'])}"


def _extensions(r: random.Random, chance: float) -> dict[str, Any]:
    if r.random() >= chance:
        return {}
    return {_ext_name(r): _ext_value(r) for _ in range(r.randint(1, 3))}


def _sensor_report_extras(r: random.Random) -> list[tuple[str, Any]]:
    return [
        ("exception", r.choice(["ALARM_CONDITION", "ERROR_CONDITION"])),
        ("component", r.choice(["x", "y", "axial_distance", "https://example.com/comp/q"])),
        ("deviceID", "urn:example:dev:" + str(r.randrange(99))),
        ("deviceMetadata", "https://example.com/dev/meta"),
        ("rawData", "https://example.com/raw/" + str(r.randrange(99))),
        ("dataProcessingMethod", "https://example.com/method/avg"),
        ("bizRules", "https://example.com/rules/1"),
        ("time", _time(r)[0]),
        ("microorganism", "https://www.ncbi.nlm.nih.gov/taxonomy/1496"),
        ("chemicalSubstance", "https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N"),
        ("coordinateReferenceSystem", "http://www.opengis.net/def/crs/EPSG/0/4979"),
        ("stringValue", "SV" + str(r.randrange(99))),
        ("booleanValue", r.choice([True, False])),
        ("hexBinaryValue", "C0FFEE"),
        ("uriValue", "https://example.com/v/1"),
        ("minValue", r.choice([1, 1.5, -3])),
        ("maxValue", r.choice([9, 12.25])),
        ("meanValue", 4.5),
        ("sDev", 0.25),
        ("percRank", 50),
        ("percValue", 7.5),
    ]


def _sensor_metadata_extras(r: random.Random) -> list[tuple[str, Any]]:
    return [
        ("startTime", _time(r)[0]),
        ("endTime", _time(r)[0]),
        ("deviceID", "urn:example:dev:" + str(r.randrange(99))),
        ("deviceMetadata", "https://example.com/dev/meta"),
        ("rawData", "https://example.com/raw/1"),
        ("dataProcessingMethod", "https://example.com/method/avg"),
        ("bizRules", "https://example.com/rules/2"),
    ]


def rich_event(r: random.Random) -> dict[str, Any]:
    """A random valid event with every optional part at some rate: every identifier scheme
    in URN or Digital Link form, quantities, sources and destinations, business
    transactions, sensor data, certification info, an error declaration, and user
    extensions at the top, in ``ilmd``, ``readPoint``, ``bizLocation``, sensor elements,
    sensor metadata and sensor reports (with ``/`` and ``#`` namespaces)."""
    event = random_event(r)
    kind = event["type"]
    key = {"TransformationEvent": "inputEPCList", "AggregationEvent": "childEPCs",
           "AssociationEvent": "childEPCs"}.get(kind, "epcList")  # fmt: skip
    extra = {_pick(r, INSTANCE_KINDS) for _ in range(r.randint(0, 4))}
    event[key] = list(dict.fromkeys(event.get(key, []) + sorted(extra)))
    if "parentID" in event and r.random() < 0.5:
        event["parentID"] = _pick(r, ("sscc", "grai", "giai"))
    qkey = {"TransformationEvent": "outputQuantityList", "AggregationEvent": "childQuantityList",
            "AssociationEvent": "childQuantityList"}.get(kind, "quantityList")  # fmt: skip
    if r.random() < 0.5:
        event[qkey] = [
            {"epcClass": _pick(r, CLASS_KINDS), "quantity": r.choice([3, 2.5, 10.75, 1000])}
            | ({"uom": "KGM"} if r.random() < 0.5 else {})
            for _ in range(r.randint(1, 3))
        ]
    event["readPoint"] = {"id": _pick(r, ("sgln",)), **_extensions(r, 0.4)}
    if r.random() < 0.6:
        event["bizLocation"] = {"id": _pick(r, ("sgln",)), **_extensions(r, 0.4)}
    if r.random() < 0.4:
        event["bizTransactionList"] = [
            {"type": r.choice(["po", "inv", "cert", "https://example.com/btt/deal"]),
             "bizTransaction": r.choice([_pick(r, ("gdti",)), "urn:example:bt:9"])}
        ]  # fmt: skip
    if r.random() < 0.3:
        event["sourceList"] = [{"type": "owning_party", "source": _pick(r, ("pgln",))}]
        event["destinationList"] = [{"type": "location", "destination": _pick(r, ("sgln",))}]
    if r.random() < 0.4:
        reports = [
            {"type": r.choice(["Temperature", "RelativeHumidity", "https://example.com/m/x"]),
             "value": round(r.uniform(-20, 40), 1), "uom": "CEL", **_extensions(r, 0.3)}
            for _ in range(r.randint(1, 3))
        ]  # fmt: skip
        for report in reports:
            report.update(r.sample(_sensor_report_extras(r), r.randint(0, 4)))
        element: dict[str, Any] = {"sensorReport": reports, **_extensions(r, 0.3)}
        if r.random() < 0.7:
            element["sensorMetadata"] = {
                "time": _time(r)[0],
                **dict(r.sample(_sensor_metadata_extras(r), r.randint(0, 3))),
                **_extensions(r, 0.4),
            }
        event["sensorElementList"] = [element]
    if r.random() < 0.2:
        event["certificationInfo"] = "https://example.com/cert/" + str(r.randrange(99))
    if r.random() < 0.15:
        event["errorDeclaration"] = {"declarationTime": _time(r)[0], "reason": "incorrect_data"}
    if kind == "ObjectEvent" and event.get("action") == "ADD" and r.random() < 0.4:
        event["ilmd"] = _extensions(r, 1.0)
    event.update(_extensions(r, 0.5))
    return event
