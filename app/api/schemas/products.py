"""Product request and response schemas. Stock is never writable directly."""

from __future__ import annotations

from marshmallow import fields, validate

from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into, PageQuery, page_of
from app.api.schemas.fields import (
    Money,
    QueryBoolean,
    QueryInteger,
    StrictBoolean,
    StrictInteger,
    Text,
)
from app.api.schemas.filters import containing
from domain.model.products import (
    NewProduct,
    Product,
    ProductChanges,
    StockAdjustment,
    StockChange,
)
from domain.ports import ProductFilter

_sku = validate.Length(1, 64)
_name = validate.Length(1, 200)


class ProductCreate(Into):
    into = NewProduct
    sku = Text(required=True, validate=_sku)
    name = Text(required=True, validate=_name)
    unit_price = Money(required=True)
    stock = StrictInteger(load_default=0, validate=validate.Range(0, 1_000_000_000))
    active = StrictBoolean(load_default=True)


class ProductPatch(Into):
    into = ProductChanges
    name = Text(validate=_name)
    unit_price = Money()
    active = StrictBoolean()


class StockAdjustmentRequest(Into):
    into = StockChange
    delta = StrictInteger(required=True, validate=validate.Range(-1_000_000_000, 1_000_000_000))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ProductListQuery(PageQuery):
    into = ProductFilter
    q = containing("products whose SKU or name")
    low_stock = QueryInteger(
        load_default=None,
        validate=validate.Range(0, 1_000_000_000),
        metadata={"description": "Only products with at most this much stock"},
    )
    active = QueryBoolean(
        load_default=None,
        metadata={"description": "true: only active products; false: only inactive ones"},
    )


ProductOut = answer_schema(Product)


ProductPage = page_of(ProductOut)


StockAdjustmentOut = answer_schema(StockAdjustment)
