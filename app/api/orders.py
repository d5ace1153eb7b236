"""Orders: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call
from domain.model.orders import LineRequest, Order, PlaceOrder
from domain.model.paging import Page
from domain.ports import OrderFilter


async def place_order(call: Call) -> Order:
    body = call.body
    lines = tuple(LineRequest(ln["product_id"], ln["quantity"]) for ln in body["lines"])
    command = PlaceOrder(body["customer_id"], lines, body["note"])
    return await call.services.orders.place(call.tenant_id, command, call.idempotency)


async def list_orders(call: Call) -> Page[Order]:
    q = call.query
    where = OrderFilter(q["status"], q["customer_id"], q["since"], q["until"])
    return await call.services.orders.list(call.tenant_id, call.page, where)


async def get_order(call: Call) -> Order:
    return await call.services.orders.get(call.tenant_id, call.path_id)


async def cancel_order(call: Call) -> Order:
    return await call.services.orders.cancel(
        call.tenant_id, call.path_id, call.body["reason"], call.idempotency
    )
