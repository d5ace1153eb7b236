"""The products slice over HTTP: create, patch, stock adjustments, roles, search and paging."""

from __future__ import annotations

import uuid

import pytest

from tests.support.sales import (
    API,
    assert_problem,
    assert_stock_matches_movements,
    every_page,
    headers_for,
    movements_of,
    product,
    stock_of,
    tenant_state,
)

PRODUCTS = f"{API}/products"


async def create(client, headers, **body):
    body.setdefault("sku", f"SKU-{uuid.uuid4().hex[:8]}")
    body.setdefault("name", "Widget")
    body.setdefault("unit_price", "12.50")
    return await client.post(PRODUCTS, json=body, headers=headers)


async def test_admin_creates_a_product_with_location_and_price_as_a_string(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    resp = await create(client, headers, sku="W-1", name="Widget", unit_price="12.5", stock=7)
    assert resp.status == 201
    body = await resp.json()
    assert resp.headers["Location"] == f"{PRODUCTS}/{body['id']}"
    assert body["sku"] == "W-1" and body["name"] == "Widget" and body["active"] is True
    assert body["unit_price"] == "12.50" and body["stock"] == 7
    fetched = await client.get(resp.headers["Location"], headers=headers)
    assert await fetched.json() == body


async def test_opening_stock_of_a_created_product_is_recorded_as_an_adjustment(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    with_stock = await (await create(client, headers, stock=7)).json()
    without_stock = await (await create(client, headers)).json()
    assert movements_of(seeder, tenant, uuid.UUID(with_stock["id"])) == [(7, "adjustment", None)]
    assert movements_of(seeder, tenant, uuid.UUID(without_stock["id"])) == []
    assert_stock_matches_movements(seeder, tenant)


async def test_duplicate_sku_in_tenant_is_409_and_writes_nothing(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    assert (await create(client, headers, sku="DUP-1", stock=3)).status == 201
    before = tenant_state(seeder, tenant)
    resp = await create(client, headers, sku="DUP-1", stock=3)
    await assert_problem(resp, 409, "conflict")
    assert tenant_state(seeder, tenant) == before


async def test_same_sku_in_two_tenants_is_fine(client, tenant, other_tenant, seeder):
    assert (await create(client, headers_for(seeder, tenant), sku="SHARED")).status == 201
    assert (await create(client, headers_for(seeder, other_tenant), sku="SHARED")).status == 201


async def test_patch_changes_name_price_and_active_and_nothing_else(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    created = await (await create(client, headers, name="Old", unit_price="1.00", stock=4)).json()
    url = f"{PRODUCTS}/{created['id']}"
    resp = await client.patch(
        url, json={"name": "New", "unit_price": "2.05", "active": False}, headers=headers
    )
    assert resp.status == 200
    body = await resp.json()
    assert (body["name"], body["unit_price"], body["active"]) == ("New", "2.05", False)
    assert body["sku"] == created["sku"] and body["stock"] == 4
    assert body["updated_at"] > created["updated_at"]
    only_price = await (await client.patch(url, json={"unit_price": "3"}, headers=headers)).json()
    assert (only_price["name"], only_price["unit_price"], only_price["active"]) == (
        "New",
        "3.00",
        False,
    )


async def test_stock_cannot_be_written_through_patch(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    product_id = product(seeder, tenant, stock=5)
    before = tenant_state(seeder, tenant)
    resp = await client.patch(
        f"{PRODUCTS}/{product_id}", json={"name": "X", "stock": 500}, headers=headers
    )
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"stock"}
    assert tenant_state(seeder, tenant) == before


async def test_stock_adjustments_up_and_down_answer_201_and_record_a_movement(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    product_id = product(seeder, tenant, stock=10)
    url = f"{PRODUCTS}/{product_id}/stock-adjustments"
    up = await client.post(url, json={"delta": 5, "note": "delivery"}, headers=headers)
    assert up.status == 201
    assert await up.json() == {
        "product_id": str(product_id),
        "delta": 5,
        "stock": 15,
        "note": "delivery",
    }
    down = await client.post(url, json={"delta": -15}, headers=headers)
    assert down.status == 201
    assert (await down.json())["stock"] == 0
    assert stock_of(seeder, tenant, product_id) == 0
    assert movements_of(seeder, tenant, product_id) == [
        (10, "adjustment", None),
        (5, "adjustment", None),
        (-15, "adjustment", None),
    ]
    assert_stock_matches_movements(seeder, tenant)


async def test_adjustment_that_would_make_stock_negative_is_409_and_writes_nothing(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    product_id = product(seeder, tenant, stock=3)
    before = tenant_state(seeder, tenant)
    resp = await client.post(
        f"{PRODUCTS}/{product_id}/stock-adjustments", json={"delta": -4}, headers=headers
    )
    problem = await assert_problem(resp, 409, "insufficient-stock")
    assert problem["shortages"] == [{"product_id": str(product_id), "requested": 4, "available": 3}]
    assert tenant_state(seeder, tenant) == before


async def test_an_adjustment_of_zero_is_422(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    product_id = product(seeder, tenant)
    resp = await client.post(
        f"{PRODUCTS}/{product_id}/stock-adjustments", json={"delta": 0}, headers=headers
    )
    await assert_problem(resp, 422, "validation-error")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "", {"sku": "S-1", "name": "N", "unit_price": "1.00"}),
        ("PATCH", "/{id}", {"name": "Renamed"}),
        ("POST", "/{id}/stock-adjustments", {"delta": 5}),
    ],
    ids=["create", "patch", "adjust"],
)
async def test_sales_role_may_not_change_products(client, tenant, seeder, method, path, body):
    headers = headers_for(seeder, tenant, role="sales")
    product_id = product(seeder, tenant)
    before = tenant_state(seeder, tenant)
    resp = await client.request(
        method, PRODUCTS + path.format(id=product_id), json=body, headers=headers
    )
    await assert_problem(resp, 403, "forbidden")
    assert tenant_state(seeder, tenant) == before


async def test_sales_role_can_list_and_get_products(client, tenant, seeder):
    headers = headers_for(seeder, tenant, role="sales")
    product_id = product(seeder, tenant, name="Visible", unit_price="4.20", stock=2)
    listed = await (await client.get(PRODUCTS, headers=headers)).json()
    assert [p["id"] for p in listed["items"]] == [str(product_id)]
    got = await client.get(f"{PRODUCTS}/{product_id}", headers=headers)
    assert got.status == 200
    body = await got.json()
    assert (body["name"], body["unit_price"], body["stock"]) == ("Visible", "4.20", 2)


async def test_an_api_key_with_the_admin_role_may_create_products(client, tenant, seeder):
    key = seeder.api_key(tenant, role="admin")
    headers = {"X-Tenant": tenant.slug, "Authorization": f"Bearer {key}"}
    resp = await create(client, headers, stock=1)
    assert resp.status == 201
    assert seeder.count(tenant, "products") == 1


async def test_an_api_key_with_the_sales_role_may_not(client, tenant, seeder):
    key = seeder.api_key(tenant, role="sales")
    headers = {"X-Tenant": tenant.slug, "Authorization": f"Bearer {key}"}
    await assert_problem(await create(client, headers), 403, "forbidden")
    assert seeder.count(tenant, "products") == 0


async def test_list_filters_by_q_on_name_or_sku_case_insensitively(
    client, tenant, other_tenant, seeder
):
    headers = headers_for(seeder, tenant)
    by_name = product(seeder, tenant, name="Blue Gadget", sku="A-1")
    by_sku = product(seeder, tenant, name="Thing", sku="GADGET-9")
    product(seeder, tenant, name="Spanner", sku="B-2")
    product(seeder, other_tenant, name="Gadget of another tenant")
    found = await (await client.get(PRODUCTS, params={"q": "gAdGeT"}, headers=headers)).json()
    assert {p["id"] for p in found["items"]} == {str(by_name), str(by_sku)}


async def test_list_low_stock_shows_products_at_or_below_the_threshold(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    empty = product(seeder, tenant, stock=0)
    at = product(seeder, tenant, stock=3)
    product(seeder, tenant, stock=4)
    found = await (await client.get(PRODUCTS, params={"low_stock": 3}, headers=headers)).json()
    assert {p["id"] for p in found["items"]} == {str(empty), str(at)}


async def test_list_pages_newest_first_without_gaps_or_repeats(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    made = [str(product(seeder, tenant)) for _ in range(5)]
    pages = await every_page(client, PRODUCTS, headers, limit=2)
    seen = [p["id"] for page in pages for p in page["items"]]
    assert len(pages) == 3
    assert seen == list(reversed(made))


async def test_unknown_product_is_404(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    await assert_problem(
        await client.get(f"{PRODUCTS}/{uuid.uuid4()}", headers=headers), 404, "not-found"
    )
