"""Invoice schemas. Money is a string in JSON, never a float."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import PageQuery, page_of
from app.api.schemas.fields import Money


class InvoiceListQuery(PageQuery):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "paid", "void"]))


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


InvoicePage = page_of(InvoiceOut)
