"""Products and stock adjustments: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call, Plain
from domain.model.paging import Listing, Page
from domain.model.products import (
    NewProduct,
    Product,
    ProductChanges,
    StockAdjustment,
    StockChange,
)
from domain.ports import ProductFilter


async def list_products(call: Call[None, Listing[ProductFilter]]) -> Page[Product]:
    return await call.services.products.list(call.tenant_id, call.query.page, call.query.where)


async def get_product(call: Plain) -> Product:
    return await call.services.products.get(call.tenant_id, call.path_id)


async def create_product(call: Call[NewProduct, None]) -> Product:
    return await call.services.products.create(call.caller, call.body, call.idempotency)


async def patch_product(call: Call[ProductChanges, None]) -> Product:
    return await call.services.products.update(call.caller, call.path_id, call.body)


async def adjust_stock(call: Call[StockChange, None]) -> StockAdjustment:
    return await call.services.products.adjust_stock(
        call.caller, call.path_id, call.body.delta, call.body.note, call.idempotency
    )
