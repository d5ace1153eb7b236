"""Customers: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call, Plain
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.paging import Listing, Page
from domain.ports import CustomerFilter


async def list_customers(call: Call[None, Listing[CustomerFilter]]) -> Page[Customer]:
    return await call.services.customers.list(call.tenant_id, call.query.page, call.query.where)


async def get_customer(call: Plain) -> Customer:
    return await call.services.customers.get(call.tenant_id, call.path_id)


async def create_customer(call: Call[NewCustomer, None]) -> Customer:
    return await call.services.customers.create(call.tenant_id, call.body, call.idempotency)


async def patch_customer(call: Call[CustomerChanges, None]) -> Customer:
    return await call.services.customers.update(call.tenant_id, call.path_id, call.body)


async def delete_customer(call: Plain) -> None:
    await call.services.customers.delete(call.tenant_id, call.path_id)
