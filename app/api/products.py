"""Products and stock adjustments: call the service with the parsed request, return its result."""

from __future__ import annotations

from app.edge.call import Call
from domain.model.paging import Page
from domain.model.products import NewProduct, Product, ProductChanges, StockAdjustment


async def list_products(call: Call) -> Page[Product]:
    q = call.query
    return await call.services.products.list(
        call.tenant_id, call.page, q["q"], q["low_stock"], q["active"]
    )


async def get_product(call: Call) -> Product:
    return await call.services.products.get(call.tenant_id, call.path_id)


async def create_product(call: Call) -> Product:
    return await call.services.products.create(
        call.caller, NewProduct(**call.body), call.idempotency
    )


async def patch_product(call: Call) -> Product:
    return await call.services.products.update(
        call.caller, call.path_id, ProductChanges(**call.body)
    )


async def adjust_stock(call: Call) -> StockAdjustment:
    body = call.body
    return await call.services.products.adjust_stock(
        call.caller, call.path_id, body["delta"], body["note"], call.idempotency
    )
