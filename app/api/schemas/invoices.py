"""Invoice schemas. Money is a string in JSON, never a float."""

from __future__ import annotations

from marshmallow import fields, validate

from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into, PageQuery, page_of
from app.api.schemas.fields import Text
from app.api.schemas.filters import at_or_after, before, in_status
from domain.model.orders import Invoice, Payment
from domain.ports import InvoiceFilter

INVOICE_STATUSES = ("open", "paid", "void")


class InvoiceListQuery(PageQuery):
    into = InvoiceFilter
    status = in_status(INVOICE_STATUSES, "invoices")
    customer_id = fields.UUID(
        load_default=None, metadata={"description": "Only invoices of this customer's orders"}
    )
    order_id = fields.UUID(
        load_default=None, metadata={"description": "Only the invoice of this order"}
    )
    since = at_or_after("invoices issued")
    until = before("invoices issued")


class PaymentRequest(Into):
    into = Payment
    method = Text(load_default=None, validate=validate.Length(1, 50))
    reference = Text(load_default=None, validate=validate.Length(1, 200))


InvoiceOut = answer_schema(Invoice)


InvoicePage = page_of(InvoiceOut)
