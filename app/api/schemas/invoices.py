"""Invoice schemas. Money is a string in JSON, never a float."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import Into, PageQuery, page_of
from app.api.schemas.fields import Money, Text, UtcDateTime
from domain.model.orders import Payment
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


class InvoiceOut(Schema):
    id = fields.UUID()
    order_id = fields.UUID()
    number = fields.String()
    amount = Money()
    currency = fields.String()
    status = fields.String(validate=validate.OneOf(INVOICE_STATUSES))
    issued_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    voided_at = fields.DateTime(allow_none=True)
    payment_method = fields.String(allow_none=True)
    payment_reference = fields.String(allow_none=True)


InvoicePage = page_of(InvoiceOut)
