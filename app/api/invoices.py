"""Invoices: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call
from domain.model.orders import Invoice
from domain.model.paging import Page


async def list_invoices(call: Call) -> Page[Invoice]:
    return await call.services.invoices.list(call.tenant_id, call.page, call.query["status"])


async def get_invoice(call: Call) -> Invoice:
    return await call.services.invoices.get(call.tenant_id, call.path_id)


async def pay_invoice(call: Call) -> Invoice:
    return await call.services.invoices.pay(call.tenant_id, call.path_id, call.idempotency)
