"""The dashboard's schema."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.api.schemas.fields import Money


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
