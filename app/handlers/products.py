"""Products and stock adjustments: parse, call the service, serialize."""

from __future__ import annotations

from aiohttp import web

from app.commands import command, retrying
from app.http import json_response, load, page_request, path_id, read_json
from app.keys import PRINCIPAL, SERVICES, TENANT
from app.schemas.products import (
    ProductCreate,
    ProductListQuery,
    ProductPatch,
    StockAdjustmentRequest,
)
from domain.model.products import NewProduct, ProductChanges

_create = ProductCreate()
_patch = ProductPatch()
_adjust = StockAdjustmentRequest()
_list_query = ProductListQuery(unknown="exclude")


async def list_products(request: web.Request) -> web.Response:
    query = load(_list_query, dict(request.query))
    page = await request.app[SERVICES].products.list(
        request[TENANT].id, page_request(query), query["q"], query["low_stock"]
    )
    return json_response(page)


async def get_product(request: web.Request) -> web.Response:
    return json_response(
        await request.app[SERVICES].products.get(request[TENANT].id, path_id(request))
    )


@command(201, location="products.get")
async def create_product(request: web.Request) -> web.Response:
    body = await read_json(request, _create)
    product = await request.app[SERVICES].products.create(request[PRINCIPAL], NewProduct(**body))
    location = str(request.app.router["products.get"].url_for(id=str(product.id)))
    return json_response(product, status=201, headers={"Location": location})


@retrying
async def patch_product(request: web.Request) -> web.Response:
    body = await read_json(request, _patch)
    product = await request.app[SERVICES].products.update(
        request[PRINCIPAL], path_id(request), ProductChanges(**body)
    )
    return json_response(product)


@command(201)
async def adjust_stock(request: web.Request) -> web.Response:
    body = await read_json(request, _adjust)
    adjustment = await request.app[SERVICES].products.adjust_stock(
        request[PRINCIPAL], path_id(request), body["delta"], body["note"]
    )
    return json_response(adjustment, status=201)
