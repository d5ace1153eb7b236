"""Invoice schemas. Money is a string in JSON, never a float."""

from __future__ import annotations

from marshmallow import fields, validate

from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into, PageQuery, page_of
from app.api.schemas.fields import Text, UtcDateTime
from domain.model.orders import Invoice, Payment
from domain.ports import InvoiceFilter

INVOICE_STATUSES = ("open", "paid", "void")


class InvoiceListQuery(PageQuery):
    into = InvoiceFilter
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(INVOICE_STATUSES),
        metadata={"description": "Only invoices in this status"},
    )
    customer_id = fields.UUID(
        load_default=None, metadata={"description": "Only invoices of this customer's orders"}
    )
    order_id = fields.UUID(
        load_default=None, metadata={"description": "Only the invoice of this order"}
    )
    since = UtcDateTime(
        load_default=None,
        metadata={
            "description": "Only invoices issued at or after this time (ISO 8601 with offset)"
        },
    )
    until = UtcDateTime(
        load_default=None,
        metadata={"description": "Only invoices issued before this time (ISO 8601 with offset)"},
    )


class PaymentRequest(Into):
    into = Payment
    method = Text(load_default=None, validate=validate.Length(1, 50))
    reference = Text(load_default=None, validate=validate.Length(1, 200))


InvoiceOut = answer_schema(Invoice)


InvoicePage = page_of(InvoiceOut)
