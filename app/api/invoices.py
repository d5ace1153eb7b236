"""Invoices: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call
from domain.model.orders import Invoice, Payment
from domain.model.paging import Page
from domain.ports import InvoiceFilter


async def list_invoices(call: Call) -> Page[Invoice]:
    q = call.query
    where = InvoiceFilter(q["status"], q["customer_id"], q["order_id"], q["since"], q["until"])
    return await call.services.invoices.list(call.tenant_id, call.page, where)


async def get_invoice(call: Call) -> Invoice:
    return await call.services.invoices.get(call.tenant_id, call.path_id)


async def pay_invoice(call: Call) -> Invoice:
    payment = Payment(call.body["method"], call.body["reference"])
    return await call.services.invoices.pay(call.tenant_id, call.path_id, payment, call.idempotency)
