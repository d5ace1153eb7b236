"""Order, invoice and dashboard schemas. Money is a string in JSON, never a float."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.schemas.common import PageQuery
from app.schemas.fields import Money, StrictInteger, UtcDateTime
from domain.model.orders import MAX_LINES


class LineIn(Schema):
    product_id = fields.UUID(required=True)
    quantity = StrictInteger(required=True, validate=validate.Range(1, 1_000_000))


class OrderCreate(Schema):
    customer_id = fields.UUID(required=True)
    lines = fields.List(
        fields.Nested(LineIn), required=True, validate=validate.Length(1, MAX_LINES)
    )
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class OrderListQuery(PageQuery):
    status = fields.String(load_default=None, validate=validate.OneOf(["placed", "cancelled"]))
    customer_id = fields.UUID(load_default=None)
    since = UtcDateTime(load_default=None)
    until = UtcDateTime(load_default=None)


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


class LineOut(Schema):
    product_id = fields.UUID()
    quantity = fields.Integer()
    unit_price = Money()
    line_total = Money()


class OrderOut(Schema):
    id = fields.UUID()
    customer_id = fields.UUID()
    status = fields.String()
    total = Money()
    currency = fields.String()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(LineOut))
    invoice = fields.Nested(InvoiceOut, allow_none=True)


class OrderPage(Schema):
    items = fields.List(fields.Nested(OrderOut))
    next_cursor = fields.String(allow_none=True)


class InvoicePage(Schema):
    items = fields.List(fields.Nested(InvoiceOut))
    next_cursor = fields.String(allow_none=True)


class LowStockOut(Schema):
    id = fields.UUID()
    sku = fields.String()
    name = fields.String()
    stock = fields.Integer()


class DashboardOut(Schema):
    customers = fields.Integer()
    products = fields.Integer()
    low_stock = fields.List(fields.Nested(LowStockOut))
    orders_placed = fields.Integer()
    orders_cancelled = fields.Integer()
    revenue_today = Money()
    revenue_30d = Money()
    revenue_total = Money()
    open_invoices = fields.Integer()
    open_invoices_amount = Money()
    currency = fields.String()
