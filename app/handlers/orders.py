"""Orders, invoices and the dashboard: parse, call the service, serialize."""

from __future__ import annotations

from aiohttp import web

from app.commands import command
from app.http import json_response, load, page_request, path_id, read_json
from app.keys import SERVICES, TENANT
from app.schemas.orders import InvoiceListQuery, OrderCreate, OrderListQuery
from domain.model.orders import LineRequest, PlaceOrder
from domain.ports import OrderFilter

_create = OrderCreate()
_order_query = OrderListQuery(unknown="exclude")
_invoice_query = InvoiceListQuery(unknown="exclude")


@command(201, location="orders.get")
async def place_order(request: web.Request) -> web.Response:
    body = await read_json(request, _create)
    lines = tuple(LineRequest(ln["product_id"], ln["quantity"]) for ln in body["lines"])
    order = await request.app[SERVICES].orders.place(
        request[TENANT].id, PlaceOrder(body["customer_id"], lines, body["note"])
    )
    location = str(request.app.router["orders.get"].url_for(id=str(order.id)))
    return json_response(order, status=201, headers={"Location": location})


async def list_orders(request: web.Request) -> web.Response:
    q = load(_order_query, dict(request.query))
    where = OrderFilter(q["status"], q["customer_id"], q["since"], q["until"])
    page = await request.app[SERVICES].orders.list(request[TENANT].id, page_request(q), where)
    return json_response(page)


async def get_order(request: web.Request) -> web.Response:
    return json_response(
        await request.app[SERVICES].orders.get(request[TENANT].id, path_id(request))
    )


@command(200)
async def cancel_order(request: web.Request) -> web.Response:
    return json_response(
        await request.app[SERVICES].orders.cancel(request[TENANT].id, path_id(request))
    )


async def list_invoices(request: web.Request) -> web.Response:
    q = load(_invoice_query, dict(request.query))
    page = await request.app[SERVICES].invoices.list(
        request[TENANT].id, page_request(q), q["status"]
    )
    return json_response(page)


async def get_invoice(request: web.Request) -> web.Response:
    return json_response(
        await request.app[SERVICES].invoices.get(request[TENANT].id, path_id(request))
    )


@command(200)
async def pay_invoice(request: web.Request) -> web.Response:
    return json_response(
        await request.app[SERVICES].invoices.pay(request[TENANT].id, path_id(request))
    )


async def dashboard(request: web.Request) -> web.Response:
    return json_response(await request.app[SERVICES].dashboard.summary(request[TENANT].id))
