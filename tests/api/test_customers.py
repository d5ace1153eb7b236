"""The customers slice over HTTP: CRUD, keyset pages, search, tenant isolation."""

from __future__ import annotations

import uuid

from tests.conftest import auth_headers
from tests.support.sales import every_page


async def create(client, headers, **body):
    body.setdefault("name", "Ada Lovelace")
    body.setdefault("email", f"ada-{uuid.uuid4().hex[:8]}@example.test")
    return await client.post("/api/sales/customers", json=body, headers=headers)


async def test_create_returns_201_with_location_and_the_customer(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    resp = await create(client, headers, name="Ada", email="Ada@Example.TEST", phone="+44 1")
    assert resp.status == 201
    body = await resp.json()
    assert resp.headers["Location"] == f"/api/sales/customers/{body['id']}"
    assert body["email"] == "ada@example.test" and body["phone"] == "+44 1"
    fetched = await client.get(resp.headers["Location"], headers=headers)
    assert await fetched.json() == body


async def test_duplicate_email_in_tenant_is_409_and_writes_nothing(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    assert (await create(client, headers, email="dup@example.test")).status == 201
    resp = await create(client, headers, email="DUP@example.test")
    assert resp.status == 409
    assert seeder.count(tenant, "customers", "email = %s", ("dup@example.test",)) == 1


async def test_same_email_in_two_tenants_is_fine(client, tenant, other_tenant, seeder):
    a = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    b = auth_headers(other_tenant, seeder.session(other_tenant, other_tenant.users["admin"]))
    assert (await create(client, a, email="shared@example.test")).status == 201
    assert (await create(client, b, email="shared@example.test")).status == 201


async def test_patch_changes_only_given_fields_and_can_clear_phone(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    created = await (await create(client, headers, name="Old", phone="123")).json()
    url = f"/api/sales/customers/{created['id']}"
    resp = await client.patch(url, json={"name": "New"}, headers=headers)
    assert resp.status == 200
    body = await resp.json()
    assert body["name"] == "New" and body["phone"] == "123" and body["email"] == created["email"]
    assert body["updated_at"] > created["updated_at"]
    cleared = await (await client.patch(url, json={"phone": None}, headers=headers)).json()
    assert cleared["phone"] is None and cleared["name"] == "New"


async def test_empty_patch_is_422(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    customer_id = seeder.customer(tenant)
    resp = await client.patch(f"/api/sales/customers/{customer_id}", json={}, headers=headers)
    assert resp.status == 422


async def test_delete_is_204_then_404(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    url = f"/api/sales/customers/{seeder.customer(tenant)}"
    assert (await client.delete(url, headers=headers)).status == 204
    assert (await client.get(url, headers=headers)).status == 404
    assert (await client.delete(url, headers=headers)).status == 404


async def test_another_tenants_customer_is_404_for_every_verb_and_unchanged(
    client, tenant, other_tenant, seeder
):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    theirs = seeder.customer(other_tenant, name="Theirs")
    url = f"/api/sales/customers/{theirs}"
    assert (await client.get(url, headers=headers)).status == 404
    assert (await client.patch(url, json={"name": "Mine"}, headers=headers)).status == 404
    assert (await client.delete(url, headers=headers)).status == 404
    assert seeder.count(other_tenant, "customers", "id = %s and name = 'Theirs'", (theirs,)) == 1


async def test_list_pages_newest_first_without_gaps_or_repeats(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    made = {str(seeder.customer(tenant, name=f"C{i}")) for i in range(7)}
    pages = await every_page(client, "/api/sales/customers", headers, limit=3)
    seen = [c["id"] for page in pages for c in page["items"]]
    assert len(pages) == 3
    assert len(seen) == len(set(seen)) == 7 and set(seen) == made


async def test_list_shows_only_own_tenant_and_filters_by_q(client, tenant, other_tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    seeder.customer(tenant, name="Zebra Findme")
    seeder.customer(tenant, name="Other")
    seeder.customer(other_tenant, name="Zebra Findme")
    all_items = (await (await client.get("/api/sales/customers", headers=headers)).json())["items"]
    assert sorted(c["name"] for c in all_items) == ["Other", "Zebra Findme"]
    found = (await (await client.get("/api/sales/customers?q=findME", headers=headers)).json())[
        "items"
    ]
    assert [c["name"] for c in found] == ["Zebra Findme"]
    # LIKE wildcards in q are matched literally.
    none = (await (await client.get("/api/sales/customers?q=%25", headers=headers)).json())["items"]
    assert none == []
