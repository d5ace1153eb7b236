"""API keys over HTTP (admins only): created with the secret shown once, listed without it,
revoked; a key names its tenant, and expired or revoked keys are refused."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import auth_headers
from tests.support.sales import API, assert_problem, headers_for

KEYS = f"{API}/api-keys"


async def create(client, headers, **body):
    resp = await client.post(KEYS, json={"name": "ci", "role": "sales", **body}, headers=headers)
    assert resp.status == 201, await resp.text()
    return resp, await resp.json()


async def test_an_admin_creates_a_key_whose_secret_is_shown_once(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    resp, created = await create(client, headers, name="  billing sync ", expires_at=expires)
    assert resp.headers["Cache-Control"] == "no-store"
    assert created["key"].startswith("sk_")
    assert (created["name"], created["role"]) == ("billing sync", "sales")
    listed = await (await client.get(KEYS, headers=headers)).json()
    (item,) = [k for k in listed["items"] if k["id"] == created["id"]]
    assert "key" not in item and created["key"] not in str(listed)
    assert item["expires_at"] is not None and item["revoked_at"] is None


async def test_a_key_alone_is_served_in_its_tenant_and_its_use_is_recorded_soon_after(
    make_client, tenant, seeder
):
    client = await make_client(api_key_use_flush=0.05)
    _, created = await create(client, headers_for(seeder, tenant))
    me = await client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {created['key']}"})
    assert me.status == 200, await me.text()
    assert (await me.json())["tenant"] == tenant.slug
    # Written by the worker's background task, not by the read: poll with a generous deadline.
    deadline = time.monotonic() + 10
    while (await listed_key(client, headers_for(seeder, tenant), created["id"]))[
        "last_used_at"
    ] is None:
        assert time.monotonic() < deadline, "the key's use was not recorded within 10 s"
        await asyncio.sleep(0.05)


async def listed_key(client, headers, key_id):
    listed = await (await client.get(KEYS, headers=headers)).json()
    (item,) = [k for k in listed["items"] if k["id"] == key_id]
    return item


async def test_a_key_with_an_x_tenant_of_another_tenant_is_refused_saying_so(
    client, tenant, other_tenant, seeder
):
    _, created = await create(client, headers_for(seeder, tenant))
    resp = await client.get(f"{API}/customers", headers=auth_headers(other_tenant, created["key"]))
    problem = await assert_problem(resp, 400, "tenant-mismatch")
    assert "another tenant" in problem["detail"]
    same = await client.get(f"{API}/customers", headers=auth_headers(tenant, created["key"]))
    assert same.status == 200


async def test_a_revoked_key_is_401_and_revoking_is_repeatable(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    _, created = await create(client, headers)
    assert (await client.delete(f"{KEYS}/{created['id']}", headers=headers)).status == 204
    assert (await client.delete(f"{KEYS}/{created['id']}", headers=headers)).status == 204
    resp = await client.get(f"{API}/auth/me", headers=auth_headers(tenant, created["key"]))
    await assert_problem(resp, 401, "unauthenticated")


async def test_an_expired_key_is_401(client, tenant, seeder):
    key = seeder.api_key(tenant)
    seeder.run(
        tenant.id,
        "update api_keys set expires_at = now() - interval '1 second' where name = 'test'",
    )
    resp = await client.get(f"{API}/auth/me", headers=auth_headers(tenant, key))
    await assert_problem(resp, 401, "unauthenticated")


@pytest.mark.parametrize(
    ("method", "path"), [("POST", KEYS), ("GET", KEYS), ("DELETE", f"{KEYS}/{uuid.uuid4()}")]
)
async def test_a_sales_user_may_not_manage_keys(client, tenant, seeder, method, path):
    body = {"name": "ci", "role": "admin"} if method == "POST" else None
    resp = await client.request(
        method, path, json=body, headers=headers_for(seeder, tenant, "sales")
    )
    await assert_problem(resp, 403, "forbidden")


async def test_another_tenants_key_cannot_be_seen_or_revoked(client, tenant, other_tenant, seeder):
    _, theirs = await create(client, headers_for(seeder, other_tenant))
    mine = headers_for(seeder, tenant)
    resp = await client.delete(f"{KEYS}/{theirs['id']}", headers=mine)
    await assert_problem(resp, 404, "not-found")
    listed = await (await client.get(KEYS, headers=mine)).json()
    assert theirs["id"] not in {k["id"] for k in listed["items"]}
    still = await client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {theirs['key']}"})
    assert still.status == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "   ", "role": "sales"},
        {"name": "ci", "role": "root"},
        {"name": "ci", "role": "sales", "expires_at": "2001-01-01T00:00:00Z"},
        {"name": "ci", "role": "sales", "secret": "mine"},
    ],
    ids=["blank-name", "bad-role", "past-expiry", "unknown-field"],
)
async def test_a_bad_key_request_is_422(client, tenant, seeder, body):
    resp = await client.post(KEYS, json=body, headers=headers_for(seeder, tenant))
    await assert_problem(resp, 422)
