"""Inputs an attacker or a careless client sends: every one is a 4xx problem, never a 500.

Depth bombs, unknown query parameters, money in forms the document does not allow, and blank
names; each was accepted or crashed before (issue 10, defects 1-4).
"""

from __future__ import annotations

import uuid

import pytest
import structlog
from structlog.testing import capture_logs

from app.api.routes import ROUTES
from tests.support.sales import assert_problem, headers_for
from tests.support.seeder import PASSWORD

LOGIN = "/api/sales/auth/login"
CUSTOMERS = "/api/sales/customers"
PRODUCTS = "/api/sales/products"


def nested(depth: int) -> bytes:
    return b'{"email": ' + b"[" * depth + b"]" * depth + b', "password": "x"}'


# ---- depth bombs -----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 500, 5000])
@pytest.mark.parametrize("path", [LOGIN, CUSTOMERS, "/api/sales/orders"])
async def test_a_deeply_nested_body_is_a_400_and_one_log_line_on_any_route(
    client, tenant, seeder, path, depth
):
    headers = {**headers_for(seeder, tenant), "Content-Type": "application/json"}
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        resp = await client.post(path, data=nested(depth), headers=headers)
    await assert_problem(resp, 400, "too-deeply-nested")
    # What the request logged (the auth listener logs on its own, outside any request).
    logged = [e for e in events if "request_id" in e]
    assert [e["event"] for e in logged] == ["request"], events
    assert "exc_info" not in logged[0]


async def test_malformed_login_bodies_count_against_the_address_limit(make_client, tenant):
    # login_burst 1: the per-address bucket holds 3 attempts.
    client = await make_client(login_burst=1, login_per_address_per_minute=0.01)
    headers = {"X-Tenant": tenant.slug, "Content-Type": "application/json"}
    for body in (nested(5000), b"{", b"[]"):
        assert (await client.post(LOGIN, data=body, headers=headers)).status in (400, 422)
    email = tenant.users["admin"].email
    resp = await client.post(LOGIN, json={"email": email, "password": PASSWORD}, headers=headers)
    problem = await assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["Retry-After"]) >= 1
    assert problem["detail"]


# ---- unknown query parameters ----------------------------------------------------------------


def _concrete(path: str) -> str:
    return path.replace("{id}", str(uuid.uuid4())).replace("{delivery_id}", str(uuid.uuid4()))


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_every_route_refuses_an_unknown_query_parameter_naming_it(
    client, tenant, seeder, route
):
    headers = {**headers_for(seeder, tenant), "Content-Type": "application/json"}
    resp = await client.request(
        route.method,
        _concrete(route.path),
        params={"bogus": "1", "limit": "5"} if route.query else {"bogus": "1"},
        data=b"{}" if route.changes_state else None,
        headers=headers,
    )
    problem = await assert_problem(resp, 400, "unknown-parameter")
    assert set(problem["errors"]) == {"bogus"}
    assert "bogus" in problem["detail"]


async def test_known_parameters_still_work_next_to_the_check(client, tenant, seeder):
    resp = await client.get(CUSTOMERS, params={"limit": "1"}, headers=headers_for(seeder, tenant))
    assert resp.status == 200


# ---- money -----------------------------------------------------------------------------------

ARABIC_INDIC_TEN = "\u0661\u0660"
FULLWIDTH_ONE = "\uff11.\uff10\uff10"
BAD_MONEY = ["1e2", "1_000", "+1.00", " 1.00", "1.00 ", "1.", ".5", "-1", "1.001"]
BAD_MONEY += [ARABIC_INDIC_TEN, FULLWIDTH_ONE]
BAD_MONEY += ["NaN", "Infinity", "0x10", "", "1,00", "1.0\n"]


@pytest.mark.parametrize("price", BAD_MONEY, ids=repr)
async def test_money_in_any_form_but_the_documented_one_is_422(client, tenant, seeder, price):
    body = {"sku": f"M-{uuid.uuid4().hex[:8]}", "name": "Money", "unit_price": price}
    resp = await client.post(PRODUCTS, json=body, headers=headers_for(seeder, tenant))
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"unit_price"}


@pytest.mark.parametrize("price", ["0", "1", "12.5", "12.50", "0012.00", "9999999999.99"])
async def test_money_in_the_documented_form_is_accepted(client, tenant, seeder, price):
    body = {"sku": f"M-{uuid.uuid4().hex[:8]}", "name": "Money", "unit_price": price}
    resp = await client.post(PRODUCTS, json=body, headers=headers_for(seeder, tenant))
    assert resp.status == 201, await resp.text()


# ---- blank names -----------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", "   ", "\t\n "], ids=repr)
async def test_a_blank_customer_name_is_422_on_create_and_patch(client, tenant, seeder, blank):
    headers = headers_for(seeder, tenant)
    body = {"name": blank, "email": f"b-{uuid.uuid4().hex[:8]}@example.test"}
    resp = await client.post(CUSTOMERS, json=body, headers=headers)
    assert set((await assert_problem(resp, 422))["errors"]) == {"name"}
    customer = seeder.customer(tenant)
    resp = await client.patch(f"{CUSTOMERS}/{customer}", json={"name": blank}, headers=headers)
    assert set((await assert_problem(resp, 422))["errors"]) == {"name"}


@pytest.mark.parametrize("field", ["sku", "name"])
async def test_a_blank_product_sku_or_name_is_422(client, tenant, seeder, field):
    body = {"sku": f"B-{uuid.uuid4().hex[:8]}", "name": "Blank", "unit_price": "1.00"}
    body[field] = "   "
    resp = await client.post(PRODUCTS, json=body, headers=headers_for(seeder, tenant))
    assert set((await assert_problem(resp, 422))["errors"]) == {field}


async def test_names_are_stored_stripped(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    email = f"s-{uuid.uuid4().hex[:8]}@example.test"
    resp = await client.post(
        CUSTOMERS, json={"name": "  Ada  ", "email": f"  {email} "}, headers=headers
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["name"] == "Ada"
    sku = f"  S-{uuid.uuid4().hex[:8]} "
    resp = await client.post(
        PRODUCTS, json={"sku": sku, "name": " Widget ", "unit_price": "1.00"}, headers=headers
    )
    body = await resp.json()
    assert (body["sku"], body["name"]) == (sku.strip(), "Widget")
