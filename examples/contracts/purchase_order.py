"""A purchase order between a manufacturer (buyer), a supplier and a logistics provider.

The deployer is the manufacturer; ``init`` names the supplier and the logistics provider.
Each step may only be taken by its party and only from the right state:

    created --accept(supplier)--> accepted --ready(supplier)--> ready
      |                              ready --pick_up(logistics)--> in_transit
      +--cancel(manufacturer)        in_transit --deliver(logistics)--> delivered
      +--reject(supplier)            delivered --confirm(manufacturer)--> completed
"""

from contract import Map, Value, ctx, emit, export, require, view

parties = Value("parties", {})
orders = Map("orders")
order_ids = Value("order_ids", [])

# step name -> (state it needs, state it makes, party who may take it)
STEPS = {
    "accept": ("created", "accepted", "supplier"),
    "reject": ("created", "rejected", "supplier"),
    "cancel": ("created", "cancelled", "manufacturer"),
    "ready": ("accepted", "ready", "supplier"),
    "pick_up": ("ready", "in_transit", "logistics"),
    "deliver": ("in_transit", "delivered", "logistics"),
    "confirm": ("delivered", "completed", "manufacturer"),
}


@export
def init(supplier: str, logistics: str) -> None:
    require(supplier != logistics, "supplier and logistics must differ")
    parties.set({"manufacturer": ctx.sender, "supplier": supplier, "logistics": logistics})


def _advance(order_id: str, step: str, note: str) -> dict:
    needs, makes, party = STEPS[step]
    require(ctx.sender == parties.get()[party], f"only the {party} may {step} an order")
    order = orders.get(order_id)
    require(order is not None, f"no order {order_id}")
    require(order["state"] == needs, f"order {order_id} is {order['state']}, not {needs}")
    order["state"] = makes
    order["history"].append([makes, ctx.block.height, ctx.sender, note])
    orders[order_id] = order
    emit("OrderUpdated", order_id=order_id, state=makes, by=ctx.sender)
    return order


@export
def create(order_id: str, item: str, quantity: int, unit_price: int) -> None:
    require(ctx.sender == parties.get()["manufacturer"], "only the manufacturer orders")
    require(0 < len(order_id) <= 64, "order id must be 1-64 characters")
    require(order_id not in orders, f"order {order_id} exists")
    require(quantity > 0 and unit_price >= 0, "quantity must be positive")
    orders[order_id] = {
        "item": item,
        "quantity": quantity,
        "unit_price": unit_price,
        "total": quantity * unit_price,
        "state": "created",
        "tracking": "",
        "history": [["created", ctx.block.height, ctx.sender, ""]],
    }
    ids = order_ids.get()
    ids.append(order_id)
    order_ids.set(ids)
    emit("OrderUpdated", order_id=order_id, state="created", by=ctx.sender)


@export
def accept(order_id: str) -> None:
    _advance(order_id, "accept", "")


@export
def reject(order_id: str, reason: str) -> None:
    _advance(order_id, "reject", reason)


@export
def cancel(order_id: str) -> None:
    _advance(order_id, "cancel", "")


@export
def ready(order_id: str) -> None:
    _advance(order_id, "ready", "")


@export
def pick_up(order_id: str, tracking: str) -> None:
    order = _advance(order_id, "pick_up", tracking)
    order["tracking"] = tracking
    orders[order_id] = order


@export
def deliver(order_id: str) -> None:
    _advance(order_id, "deliver", "")


@export
def confirm(order_id: str) -> None:
    _advance(order_id, "confirm", "")


@view
def get_order(order_id: str) -> dict | None:
    return orders.get(order_id)


@view
def list_orders() -> list:
    return order_ids.get()


@view
def get_parties() -> dict:
    return parties.get()
