"""Customers: parse, call the service, serialize."""

from __future__ import annotations

from aiohttp import web

from app.commands import command, retrying
from app.http import json_response, load, page_request, path_id, read_json
from app.keys import SERVICES, TENANT
from app.schemas.customers import CustomerCreate, CustomerListQuery, CustomerPatch
from domain.model.customers import CustomerChanges, NewCustomer

_create = CustomerCreate()
_patch = CustomerPatch()
_list_query = CustomerListQuery(unknown="exclude")


async def list_customers(request: web.Request) -> web.Response:
    query = load(_list_query, dict(request.query))
    page = await request.app[SERVICES].customers.list(
        request[TENANT].id, page_request(query), query["q"]
    )
    return json_response(page)


async def get_customer(request: web.Request) -> web.Response:
    customer = await request.app[SERVICES].customers.get(request[TENANT].id, path_id(request))
    return json_response(customer)


@command(201, location="customers.get")
async def create_customer(request: web.Request) -> web.Response:
    body = await read_json(request, _create)
    customer = await request.app[SERVICES].customers.create(request[TENANT].id, NewCustomer(**body))
    location = str(request.app.router["customers.get"].url_for(id=str(customer.id)))
    return json_response(customer, status=201, headers={"Location": location})


@retrying
async def patch_customer(request: web.Request) -> web.Response:
    body = await read_json(request, _patch)
    changes = CustomerChanges(
        name=body.get("name"),
        email=body.get("email"),
        phone=body.get("phone"),
        clear_phone="phone" in body and body["phone"] is None,
    )
    customer = await request.app[SERVICES].customers.update(
        request[TENANT].id, path_id(request), changes
    )
    return json_response(customer)


@retrying
async def delete_customer(request: web.Request) -> web.Response:
    await request.app[SERVICES].customers.delete(request[TENANT].id, path_id(request))
    return web.Response(status=204)
