"""Invoice schemas. Money is a string in JSON, never a float."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import PageQuery, page_of
from app.api.schemas.fields import Money, Text, UtcDateTime


class InvoiceListQuery(PageQuery):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "paid", "void"]))
    customer_id = fields.UUID(load_default=None)
    order_id = fields.UUID(load_default=None)
    since = UtcDateTime(load_default=None)
    until = UtcDateTime(load_default=None)


class PaymentRequest(Schema):
    method = Text(load_default=None, validate=validate.Length(1, 50))
    reference = Text(load_default=None, validate=validate.Length(1, 200))


class InvoiceOut(Schema):
    id = fields.UUID()
    order_id = fields.UUID()
    number = fields.String()
    amount = Money()
    currency = fields.String()
    status = fields.String()
    issued_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)
    voided_at = fields.DateTime(allow_none=True)
    payment_method = fields.String(allow_none=True)
    payment_reference = fields.String(allow_none=True)


InvoicePage = page_of(InvoiceOut)
