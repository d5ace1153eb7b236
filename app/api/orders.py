"""Orders: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call, Plain
from domain.model.orders import Cancellation, Order, PlaceOrder
from domain.model.paging import Listing, Page
from domain.ports import OrderFilter


async def place_order(call: Call[PlaceOrder, None]) -> Order:
    return await call.services.orders.place(call.tenant_id, call.body, call.idempotency)


async def list_orders(call: Call[None, Listing[OrderFilter]]) -> Page[Order]:
    return await call.services.orders.list(call.tenant_id, call.query.page, call.query.where)


async def get_order(call: Plain) -> Order:
    return await call.services.orders.get(call.tenant_id, call.path_id)


async def cancel_order(call: Call[Cancellation, None]) -> Order:
    return await call.services.orders.cancel(
        call.tenant_id, call.path_id, call.body.reason, call.idempotency
    )
