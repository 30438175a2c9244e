"""Capacity sharing: members offer spare production capacity per period; others book it.

A period is a day number (block time in ms // 86 400 000). Offers name a resource (say a
CNC line) and the units available per period; bookings take units of future periods and
can be cancelled by the booker before the period starts.
"""

from contract import Map, Value, ctx, emit, export, require, view

DAY_MS = 86_400_000
resources = Map("resources")
booked = Map("booked")  # (resource, period) -> units booked
bookings = Map("bookings")
next_booking = Value("next_booking", 1)


def _today() -> int:
    return ctx.block.time // DAY_MS


@export
def offer(resource: str, units_per_period: int, unit_price: int) -> None:
    require(0 < len(resource) <= 64, "resource name must be 1-64 characters")
    require(units_per_period > 0, "units must be positive")
    current = resources.get(resource)
    require(current is None or current["owner"] == ctx.sender, "resource owned by another")
    resources[resource] = {
        "owner": ctx.sender,
        "units": units_per_period,
        "unit_price": unit_price,
    }
    emit("Offered", resource=resource, owner=ctx.sender, units=units_per_period)


@export
def book(resource: str, period: int, units: int) -> int:
    spec = resources.get(resource)
    require(spec is not None, f"no resource {resource}")
    require(period > _today(), "only future periods can be booked")
    require(units > 0, "units must be positive")
    taken = booked.get((resource, period), 0)
    require(taken + units <= spec["units"], f"only {spec['units'] - taken} units left")
    booked[(resource, period)] = taken + units
    booking_id = next_booking.get()
    next_booking.set(booking_id + 1)
    bookings[booking_id] = {
        "resource": resource,
        "period": period,
        "units": units,
        "booker": ctx.sender,
        "price": units * spec["unit_price"],
        "active": True,
    }
    emit("Booked", booking=booking_id, resource=resource, period=period, units=units)
    return booking_id


@export
def cancel(booking_id: int) -> None:
    booking = bookings.get(booking_id)
    require(booking is not None and booking["active"], f"no active booking {booking_id}")
    require(booking["booker"] == ctx.sender, "only the booker may cancel")
    require(booking["period"] > _today(), "the period has started")
    key = (booking["resource"], booking["period"])
    booked[key] = booked[key] - booking["units"]
    booking["active"] = False
    bookings[booking_id] = booking
    emit("Cancelled", booking=booking_id)


@view
def available(resource: str, period: int) -> int:
    spec = resources.get(resource)
    if spec is None:
        return 0
    return spec["units"] - booked.get((resource, period), 0)


@view
def get_booking(booking_id: int) -> dict | None:
    return bookings.get(booking_id)
