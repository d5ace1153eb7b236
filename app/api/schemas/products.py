"""Product request and response schemas. Stock is never writable directly."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import PageQuery, page_of
from app.api.schemas.fields import (
    Money,
    QueryBoolean,
    QueryInteger,
    StrictBoolean,
    StrictInteger,
    Text,
)

_sku = validate.Length(1, 64)
_name = validate.Length(1, 200)


class ProductCreate(Schema):
    sku = Text(required=True, validate=_sku)
    name = Text(required=True, validate=_name)
    unit_price = Money(required=True)
    stock = StrictInteger(load_default=0, validate=validate.Range(0, 1_000_000_000))
    active = StrictBoolean(load_default=True)


class ProductPatch(Schema):
    name = Text(validate=_name)
    unit_price = Money()
    active = StrictBoolean()


class StockAdjustmentRequest(Schema):
    delta = StrictInteger(required=True, validate=validate.Range(-1_000_000_000, 1_000_000_000))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ProductListQuery(PageQuery):
    q = fields.String(
        load_default=None,
        validate=validate.Length(1, 100),
        metadata={"description": "Only products whose SKU or name contains this, ignoring case"},
    )
    low_stock = QueryInteger(
        load_default=None,
        validate=validate.Range(0, 1_000_000_000),
        metadata={"description": "Only products with at most this much stock"},
    )
    active = QueryBoolean(
        load_default=None,
        metadata={"description": "true: only active products; false: only inactive ones"},
    )


class ProductOut(Schema):
    id = fields.UUID()
    sku = fields.String()
    name = fields.String()
    unit_price = Money()
    stock = fields.Integer()
    active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


ProductPage = page_of(ProductOut)


class StockAdjustmentOut(Schema):
    product_id = fields.UUID()
    delta = fields.Integer()
    stock = fields.Integer()
    note = fields.String(allow_none=True)
