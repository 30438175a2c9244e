"""Sample data: a realistic food chain as EPCIS 2.0 documents, for demos, tests and benches.

A tomato farm harvests lots (with field sensor data), an inspection body tests each lot
and issues a certificate, the farm ships under a purchase order, a processor receives the
lots and turns them with salt into jars of tomato sauce, packs the jars into cases
(SSCC), ships them to a distributor, which stores and forwards them to a retailer, which
unpacks and sells jars. A consumer scans a jar's GS1 Digital Link and sees its history.

Every identifier is a valid GS1 key (check digits computed); the output is deterministic
for a seed. :func:`food_chain` returns the participants to register, the locations, the
business transactions and the documents in capture order.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from xinlian.gs1.identifiers import DL_ROOT, check_digit

__all__ = ["CONTEXT", "Capture", "Party", "SampleChain", "food_chain"]

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACE = "https://xinlian.example/trace/"
START = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
#: Default organisation of each trace role.
DEFAULT_ORGS = {
    "producer": "farm",
    "inspector": "inspector",
    "processor": "processor",
    "distributor": "distributor",
    "retailer": "retailer",
}
_PREFIXES = {
    "producer": "6901234",
    "inspector": "6902345",
    "processor": "6903456",
    "distributor": "6904567",
    "retailer": "6905678",
}


def _gln(prefix: str, ref: int) -> str:
    body = prefix + str(ref).zfill(12 - len(prefix))
    return f"{DL_ROOT}/414/{body}{check_digit(body)}"


def _gtin(prefix: str, ref: int) -> str:
    body = "0" + prefix + str(ref).zfill(12 - len(prefix))
    return body + str(check_digit(body))


def _sscc(prefix: str, ref: int) -> str:
    body = "0" + prefix + str(ref).zfill(16 - len(prefix))
    return f"{DL_ROOT}/00/{body}{check_digit(body)}"


@dataclass(frozen=True, slots=True)
class Party:
    """A participant: organisation, trace role, GS1 company prefix, locations (id, name)."""

    org: str
    role: str
    prefix: str
    locations: list[tuple[str, str]]
    ii_prefix: str


@dataclass(frozen=True, slots=True)
class Capture:
    """One EPCIS document captured by ``org``."""

    org: str
    label: str
    document: dict[str, Any]


@dataclass(slots=True)
class SampleChain:
    """The generated chain."""

    parties: list[Party]
    captures: list[Capture] = field(default_factory=list)
    #: Business transactions: (id, kind, opener org, other parties).
    transactions: list[tuple[str, str, str, list[str]]] = field(default_factory=list)
    #: Digital Link a consumer scans (a sold jar) and the farm lots it came from.
    consumer_scan: str = ""
    lots: list[str] = field(default_factory=list)

    @property
    def event_count(self) -> int:
        """Events in all documents."""
        return sum(len(c.document["epcisBody"]["eventList"]) for c in self.captures)


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def tick(self, minutes: int = 7) -> str:
        self.now += timedelta(minutes=minutes)
        local = self.now.astimezone(_CST)
        return local.isoformat(timespec="milliseconds")


_CST = timezone(timedelta(hours=8))


def _doc(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": [CONTEXT, {"xl": NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": START.isoformat().replace("+00:00", "Z"),
        "epcisBody": {"eventList": events},
    }


def _event(kind: str, when: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventTime": when, "eventTimeZoneOffset": "+08:00", **fields}


def food_chain(
    seed: int = 1,
    *,
    lots: int = 2,
    jars_per_case: int = 6,
    cases: int = 4,
    orgs: Mapping[str, str] | None = None,
) -> SampleChain:
    """Generate the chain: ``lots`` tomato lots go into ``cases`` cases of jars.

    Args:
        seed: makes serials and measurements reproducible.
        lots: harvested tomato lots (each: harvest, inspection, shipment, receipt: four
            events in every jar's upstream history).
        jars_per_case / cases: the processor's output.
        orgs: organisation id for each trace role (default :data:`DEFAULT_ORGS`).
    """
    r = random.Random(seed)
    names = {**DEFAULT_ORGS, **(orgs or {})}
    parties = []
    for i, (role, org) in enumerate(names.items()):
        prefix = _PREFIXES[role]
        places = [(_gln(prefix, 1), f"{org} site"), (_gln(prefix, 2), f"{org} dock")]
        parties.append(Party(org, role, prefix, places, f"88.{100 + i}.{prefix}"))
    by_role = {p.role: p for p in parties}
    farm, lab, plant = by_role["producer"], by_role["inspector"], by_role["processor"]
    dc, shop = by_role["distributor"], by_role["retailer"]
    clock = _Clock()
    chain = SampleChain(parties)
    tomato = _gtin(farm.prefix, 101)
    salt = _gtin(plant.prefix, 201)
    sauce = _gtin(plant.prefix, 301)
    po = f"urn:epcglobal:cbv:bt:{plant.locations[0][0][-13:]}:PO-{seed}001"
    desadv = f"urn:epcglobal:cbv:bt:{farm.locations[0][0][-13:]}:ASN-{seed}001"
    chain.transactions = [
        (po, "po", plant.org, [farm.org]),
        (desadv, "desadv", farm.org, [plant.org]),
    ]
    lot_ids = [f"{DL_ROOT}/01/{tomato}/10/T{seed}{n:04d}" for n in range(lots)]
    chain.lots = lot_ids

    # FARM: harvest with field sensors, then ship under the PO.
    harvest = []
    for lot in lot_ids:
        harvest.append(
            _event(
                "ObjectEvent",
                clock.tick(),
                action="ADD",
                epcList=[],
                quantityList=[{"epcClass": lot, "quantity": r.randint(400, 900), "uom": "KGM"}],
                bizStep="commissioning",
                disposition="active",
                readPoint={"id": farm.locations[0][0]},
                bizLocation={"id": farm.locations[0][0]},
                ilmd={"xl:harvestDate": clock.now.date().isoformat(), "xl:variety": "Roma"},
                sensorElementList=[
                    {
                        "sensorMetadata": {"time": clock.tick(1)},
                        "sensorReport": [
                            {"type": "Temperature", "value": round(r.uniform(18, 26), 1),
                             "uom": "CEL"},
                            {"type": "RelativeHumidity", "value": r.randint(40, 70), "uom": "A93"},
                        ],
                    }
                ],
            )
        )  # fmt: skip
    chain.captures.append(Capture(farm.org, "harvest", _doc(harvest)))

    # INSPECTION BODY: tests every lot at the farm and certifies it.
    checks = [
        _event(
            "ObjectEvent",
            clock.tick(),
            action="OBSERVE",
            epcList=[],
            quantityList=[{"epcClass": lot, "quantity": 2, "uom": "KGM"}],
            bizStep="inspecting",
            disposition="conformant",
            readPoint={"id": farm.locations[1][0]},
            bizTransactionList=[
                {"type": "testres", "bizTransaction": f"urn:xinlian:cert:{lab.prefix}:{n}"}
            ],
        )
        for n, lot in enumerate(lot_ids)
    ]
    chain.captures.append(Capture(lab.org, "inspection", _doc(checks)))

    shipping = [
        _event(
            "ObjectEvent",
            clock.tick(),
            action="OBSERVE",
            epcList=[],
            quantityList=[{"epcClass": lot, "quantity": 500, "uom": "KGM"}],
            bizStep="shipping",
            disposition="in_transit",
            readPoint={"id": farm.locations[1][0]},
            bizTransactionList=[{"type": "po", "bizTransaction": po},
                                {"type": "desadv", "bizTransaction": desadv}],
            destinationList=[{"type": "owning_party",
                              "destination": plant.locations[0][0].replace("/414/", "/417/")}],
        )
        for lot in lot_ids
    ]  # fmt: skip
    chain.captures.append(Capture(farm.org, "shipping", _doc(shipping)))

    # PROCESSOR: receive, commission salt, transform, pack, ship.
    receiving = [
        _event(
            "ObjectEvent",
            clock.tick(),
            action="OBSERVE",
            epcList=[],
            quantityList=[{"epcClass": lot, "quantity": 500, "uom": "KGM"}],
            bizStep="receiving",
            disposition="in_progress",
            readPoint={"id": plant.locations[1][0]},
            bizLocation={"id": plant.locations[0][0]},
            bizTransactionList=[{"type": "po", "bizTransaction": po}],
        )
        for lot in lot_ids
    ]
    salt_lot = f"{DL_ROOT}/01/{salt}/10/S{seed}01"
    receiving.append(
        _event(
            "ObjectEvent",
            clock.tick(),
            action="ADD",
            epcList=[],
            quantityList=[{"epcClass": salt_lot, "quantity": 50, "uom": "KGM"}],
            bizStep="commissioning",
            readPoint={"id": plant.locations[0][0]},
        )
    )
    chain.captures.append(Capture(plant.org, "receiving", _doc(receiving)))
    jars = [
        f"{DL_ROOT}/01/{sauce}/21/J{seed}{r.randrange(16**6):06x}{n:04d}"
        for n in range(jars_per_case * cases)
    ]
    sauce_lot = f"B{seed}{r.randrange(10**4):04d}"
    case_ids = [_sscc(plant.prefix, seed * 10_000 + n) for n in range(cases)]
    making = [
        _event(
            "TransformationEvent",
            clock.tick(60),
            inputQuantityList=[{"epcClass": lot, "quantity": 500, "uom": "KGM"} for lot in lot_ids]
            + [{"epcClass": salt_lot, "quantity": 5, "uom": "KGM"}],
            outputEPCList=jars,
            bizStep="commissioning",
            disposition="active",
            readPoint={"id": plant.locations[0][0]},
            ilmd={"xl:sauceLot": sauce_lot, "xl:bestBefore": "2028-06-01"},
        )
    ]
    for c, case in enumerate(case_ids):
        making.append(
            _event(
                "AggregationEvent",
                clock.tick(),
                action="ADD",
                parentID=case,
                childEPCs=jars[c * jars_per_case : (c + 1) * jars_per_case],
                bizStep="packing",
                disposition="in_progress",
                readPoint={"id": plant.locations[0][0]},
            )
        )
    making.append(
        _event(
            "ObjectEvent",
            clock.tick(),
            action="OBSERVE",
            epcList=case_ids,
            bizStep="shipping",
            disposition="in_transit",
            readPoint={"id": plant.locations[1][0]},
        )
    )
    chain.captures.append(Capture(plant.org, "production", _doc(making)))

    # DISTRIBUTOR: receive, store, ship.
    moves = [
        _event("ObjectEvent", clock.tick(240), action="OBSERVE", epcList=case_ids,
               bizStep=step, disposition=disp, readPoint={"id": dc.locations[i % 2][0]},
               bizLocation={"id": dc.locations[0][0]})
        for i, (step, disp) in enumerate(
            [("receiving", "in_progress"), ("storing", "sellable_not_accessible"),
             ("shipping", "in_transit")]
        )
    ]  # fmt: skip
    chain.captures.append(Capture(dc.org, "distribution", _doc(moves)))

    # RETAILER: receive, unpack, sell some jars.
    store = [
        _event("ObjectEvent", clock.tick(180), action="OBSERVE", epcList=case_ids,
               bizStep="receiving", disposition="in_progress",
               readPoint={"id": shop.locations[1][0]}, bizLocation={"id": shop.locations[0][0]})
    ]  # fmt: skip
    for c, case in enumerate(case_ids):
        store.append(
            _event(
                "AggregationEvent",
                clock.tick(),
                action="DELETE",
                parentID=case,
                childEPCs=jars[c * jars_per_case : (c + 1) * jars_per_case],
                bizStep="unpacking",
                readPoint={"id": shop.locations[0][0]},
            )
        )
    sold = jars[:: max(1, jars_per_case // 2)]
    store.append(
        _event(
            "ObjectEvent",
            clock.tick(600),
            action="OBSERVE",
            epcList=sold,
            bizStep="retail_selling",
            disposition="retail_sold",
            readPoint={"id": shop.locations[0][0]},
        )
    )
    chain.captures.append(Capture(shop.org, "retail", _doc(store)))
    chain.consumer_scan = sold[0]
    return chain
