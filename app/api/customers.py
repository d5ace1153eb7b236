"""Customers: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.paging import Page


async def list_customers(call: Call) -> Page[Customer]:
    q = call.query
    return await call.services.customers.list(call.tenant_id, call.page, q["q"], q["email"])


async def get_customer(call: Call) -> Customer:
    return await call.services.customers.get(call.tenant_id, call.path_id)


async def create_customer(call: Call) -> Customer:
    return await call.services.customers.create(
        call.tenant_id, NewCustomer(**call.body), call.idempotency
    )


async def patch_customer(call: Call) -> Customer:
    body = call.body
    changes = CustomerChanges(
        name=body.get("name"),
        email=body.get("email"),
        phone=body.get("phone"),
        clear_phone="phone" in body and body["phone"] is None,
    )
    return await call.services.customers.update(call.tenant_id, call.path_id, changes)


async def delete_customer(call: Call) -> None:
    await call.services.customers.delete(call.tenant_id, call.path_id)
