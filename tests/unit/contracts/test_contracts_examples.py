"""The example contracts: purchase-order workflow and capacity sharing."""

from __future__ import annotations

from typing import Any

import pytest

from xinlian.types import TxStatus

DAY_MS = 86_400_000


@pytest.fixture
def po(cw: Any) -> tuple[Any, str]:
    supplier, logistics = cw.helpers.address("writer_b"), cw.helpers.address("admin_c")
    address = cw.example("purchase_order", {"supplier": supplier, "logistics": logistics})
    return cw, address


def test_purchase_order_runs_its_workflow_with_each_party(po: tuple[Any, str]) -> None:
    cw, address = po
    args = {"order_id": "PO-1", "item": "bearing 6204", "quantity": 500, "unit_price": 3}
    cw.output(cw.call("dev_a", address, "create", args))
    steps = [
        ("writer_b", "accept", {}),
        ("writer_b", "ready", {}),
        ("admin_c", "pick_up", {"tracking": "SF123"}),
        ("admin_c", "deliver", {}),
        ("dev_a", "confirm", {}),
    ]
    for who, step, extra in steps:
        receipt = cw.call(who, address, step, {"order_id": "PO-1", **extra})
        assert receipt.status == TxStatus.OK, (step, receipt.error)
    order = cw.query(address, "get_order", {"order_id": "PO-1"})
    assert order["state"] == "completed" and order["total"] == 1500
    assert order["tracking"] == "SF123"
    assert [h[0] for h in order["history"]] == [
        "created",
        "accepted",
        "ready",
        "in_transit",
        "delivered",
        "completed",
    ]
    assert cw.query(address, "list_orders", {}) == ["PO-1"]


def test_purchase_order_refuses_wrong_party_and_wrong_state(po: tuple[Any, str]) -> None:
    cw, address = po
    args = {"order_id": "PO-2", "item": "gear", "quantity": 1, "unit_price": 9}
    cw.output(cw.call("dev_a", address, "create", args))
    r = cw.call("admin_c", address, "accept", {"order_id": "PO-2"})
    assert (r.status, r.error) == (TxStatus.FAILED, "only the supplier may accept an order")
    r = cw.call("admin_c", address, "pick_up", {"order_id": "PO-2", "tracking": "x"})
    assert r.error == "order PO-2 is created, not ready"
    r = cw.call("dev_a", address, "create", args)
    assert r.error == "order PO-2 exists"
    cw.output(cw.call("dev_a", address, "cancel", {"order_id": "PO-2"}))
    r = cw.call("writer_b", address, "accept", {"order_id": "PO-2"})
    assert r.error == "order PO-2 is cancelled, not created"


def test_capacity_booking_respects_capacity_and_cancellation(cw: Any) -> None:
    address = cw.example("capacity")
    today = (cw.time_ms + 1000) // DAY_MS
    cw.output(
        cw.call(
            "writer_b",
            address,
            "offer",
            {"resource": "cnc-1", "units_per_period": 10, "unit_price": 7},
        )
    )
    first = cw.output(
        cw.call("writer_a", address, "book", {"resource": "cnc-1", "period": today + 1, "units": 6})
    )
    assert first == 1
    r = cw.call("admin_c", address, "book", {"resource": "cnc-1", "period": today + 1, "units": 5})
    assert (r.status, r.error) == (TxStatus.FAILED, "only 4 units left")
    r = cw.call("admin_c", address, "book", {"resource": "cnc-1", "period": today, "units": 1})
    assert r.error == "only future periods can be booked"
    assert cw.query(address, "available", {"resource": "cnc-1", "period": today + 1}) == 4
    r = cw.call("admin_c", address, "cancel", {"booking_id": first})
    assert r.error == "only the booker may cancel"
    cw.output(cw.call("writer_a", address, "cancel", {"booking_id": first}))
    assert cw.query(address, "available", {"resource": "cnc-1", "period": today + 1}) == 10
    booking = cw.query(address, "get_booking", {"booking_id": first})
    assert booking["active"] is False and booking["price"] == 42
