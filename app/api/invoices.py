"""Invoices: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call, Plain
from domain.model.orders import Invoice, Payment
from domain.model.paging import Listing, Page
from domain.ports import InvoiceFilter


async def list_invoices(call: Call[None, Listing[InvoiceFilter]]) -> Page[Invoice]:
    return await call.services.invoices.list(call.tenant_id, call.query.page, call.query.where)


async def get_invoice(call: Plain) -> Invoice:
    return await call.services.invoices.get(call.tenant_id, call.path_id)


async def pay_invoice(call: Call[Payment, None]) -> Invoice:
    return await call.services.invoices.pay(
        call.tenant_id, call.path_id, call.body, call.idempotency
    )
