"""An item's history across aggregations and transformations, from the anchored summaries.

Starting from one identifier (an instance, a lot or a container), the walk follows:

* **upstream** (what it is made of and came from): a transformation that output the item
  leads to its inputs (``made_from``); an aggregation whose parent is the item leads to
  its contents (``contains``); the containers the item was packed in are included
  (``packed_in``) with their own containers, but never their other contents, and only
  their events between the item's packing (ADD) and unpacking (DELETE);
* **downstream** (recall: everything made from it and where that went): a transformation
  that consumed the item leads to its outputs (``made_into``); the containers it was
  packed in are followed (``packed_in``) so their shipments and receipts appear.

Each item lists the hashes of its inspection certificates (inspections by an inspection
body or regulator). Each event comes once, with its anchor (transaction, index, height)
so a client can fetch and verify the on-chain proof. The walk is bounded
(``max_events``); a cut answer says ``truncated``. It only reads state (``get``), so the
API runs it unmetered and an app query could run it metered.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from xinlian.apps.trace.app import (
    EventRecord,
    Getter,
    cert_prefix,
    event_json,
    item_prefix,
    listed,
    load_event,
    resolve_id,
)

__all__ = ["DIRECTIONS", "MAX_EVENTS", "history"]

DIRECTIONS = ("upstream", "downstream", "both")
MAX_EVENTS = 20_000


_AGGREGATIONS = ("AggregationEvent", "AssociationEvent")
_FOREVER = 2**63


class _Walk:
    def __init__(self, get: Getter, max_events: int) -> None:
        self.get = get
        self.max_events = max_events
        self.events: dict[bytes, EventRecord] = {}
        self.edges: set[tuple[str, str, str, str]] = set()
        self.items: dict[str, str] = {}
        #: When each container held something the walk follows: [(from_ms, to_ms)].
        self.windows: dict[str, list[tuple[int, int]]] = {}
        self.truncated = False

    def load(self, item: str) -> list[EventRecord]:
        out = []
        for digest in listed(self.get, item_prefix(item)):
            record = self.events.get(digest) or load_event(self.get, digest)
            if record is not None:
                out.append(record)
        return out

    def keep(self, record: EventRecord) -> bool:
        digest = record.anchor.hash
        if digest not in self.events:
            if len(self.events) >= self.max_events:
                self.truncated = True
                return False
            self.events[digest] = record
        return True

    def packing_windows(self, item: str, records: list[EventRecord]) -> None:
        """Record, per container, when ``item`` was in it (an ADD or OBSERVE aggregation
        opens the window, a DELETE closes it)."""
        opened: dict[str, int] = {}
        for r in sorted(records, key=lambda r: r.anchor.time_ms):
            a = r.anchor
            if a.type not in _AGGREGATIONS or not a.parent or item not in (*a.epcs, *a.classes):
                continue
            if a.action == "DELETE":
                if a.parent in opened:
                    self.windows.setdefault(a.parent, []).append((opened.pop(a.parent), a.time_ms))
            else:
                opened.setdefault(a.parent, a.time_ms)
        for parent, since in opened.items():
            self.windows.setdefault(parent, []).append((since, _FOREVER))

    def run(self, start: str, downstream: bool) -> None:
        # (item, is_container): containers are followed only to their own containers, and
        # only their events while they held what the walk came from count.
        queue: deque[tuple[str, bool]] = deque([(start, False)])
        seen = {(start, False)}
        self.items.setdefault(start, "start")

        def push(item: str, container: bool, relation: str, src: str, dst: str, ev: str) -> None:
            self.edges.add((src, dst, relation, ev))
            self.items.setdefault(item, relation)
            if (item, container) not in seen:
                seen.add((item, container))
                queue.append((item, container))

        while queue and not self.truncated:
            item, container = queue.popleft()
            records = self.load(item)
            if container:
                spans = self.windows.get(item, [])
                records = [
                    r for r in records if any(lo <= r.anchor.time_ms <= hi for lo, hi in spans)
                ]
            kept = []
            for record in records:
                if not self.keep(record):
                    break
                kept.append(record)
            self.packing_windows(item, kept)
            for record in kept:
                a = record.anchor
                h = a.hash.hex()
                members = [*a.epcs, *a.classes]
                if a.type in _AGGREGATIONS and a.action != "DELETE":
                    if item in members and a.parent:
                        push(a.parent, True, "packed_in", item, a.parent, h)
                    elif item == a.parent and not container and not downstream:
                        for child in members:
                            push(child, False, "contains", child, item, h)
                if container:
                    continue
                if a.type == "TransformationEvent":
                    if not downstream and item in a.outputs:
                        for source in a.inputs:
                            push(source, False, "made_from", source, item, h)
                    if downstream and item in a.inputs:
                        for product in a.outputs:
                            push(product, False, "made_into", item, product, h)


def history(
    get: Getter, item: str, direction: str = "both", max_events: int = 5000
) -> dict[str, Any]:
    """The history of ``item`` (any identifier form) in ``direction``: the items reached
    with their relation, the edges between them and every event, oldest first."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}")
    if not 1 <= max_events <= MAX_EVENTS:
        raise ValueError(f"max_events must be 1-{MAX_EVENTS}")
    start = resolve_id(get, item)
    walk = _Walk(get, max_events)
    if direction in ("upstream", "both"):
        walk.run(start, downstream=False)
    if direction in ("downstream", "both"):
        walk.run(start, downstream=True)
    events = sorted(walk.events.values(), key=lambda r: (r.anchor.time_ms, r.anchor.hash))
    return {
        "id": start,
        "direction": direction,
        "items": [
            {
                "id": k,
                "relation": v,
                "certificates": [h.hex() for h in listed(get, cert_prefix(k), 0, 100)],
            }
            for k, v in sorted(walk.items.items())
        ],
        "edges": [
            {"from": s, "to": d, "relation": rel, "event": ev}
            for s, d, rel, ev in sorted(walk.edges)
        ],
        "events": [event_json(r) for r in events],
        "truncated": walk.truncated,
    }
