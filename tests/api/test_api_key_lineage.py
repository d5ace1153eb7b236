"""API keys never outrank nor outlive their creator, and fall with it (issue 19, item 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from structlog.testing import capture_logs

from tests.api.test_auth_cache import until
from tests.conftest import auth_headers
from tests.support.sales import assert_problem

KEYS = "/api/sales/api-keys"
ME = "/api/sales/auth/me"


async def _mint(client, headers, role="admin", expires_at=None) -> dict:
    body = {"name": "minted", "role": role}
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    resp = await client.post(KEYS, json=body, headers=headers)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def _refused(client, tenant, key: str) -> bool:
    resp = await client.get(ME, headers=auth_headers(tenant, key))
    return resp.status == 401


async def test_a_key_records_its_creator_and_the_listing_shows_it(cached, tenant, seeder):
    admin = tenant.users["admin"]
    by_user = await _mint(cached, auth_headers(tenant, seeder.session(tenant, admin)))
    by_key = await _mint(cached, auth_headers(tenant, by_user["key"]))
    assert (by_user["created_by_user_id"], by_user["created_by_key_id"]) == (str(admin.id), None)
    assert (by_key["created_by_user_id"], by_key["created_by_key_id"]) == (None, by_user["id"])
    listing = await (await cached.get(KEYS, headers=auth_headers(tenant, by_key["key"]))).json()
    creators = {
        k["id"]: (k["created_by_user_id"], k["created_by_key_id"]) for k in listing["items"]
    }
    assert creators[by_key["id"]] == (None, by_user["id"])
    assert creators[by_user["id"]] == (str(admin.id), None)


async def test_the_log_of_a_creation_names_the_new_key_and_its_creator(cached, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        created = await _mint(cached, headers)
    (made,) = [e for e in events if e["event"] == "api_key_created"]
    (request,) = [e for e in events if e["event"] == "request"]
    assert made["api_key_id"] == request["created_id"] == created["id"]
    assert made["created_by"] == f"user:{tenant.users['admin'].id}"
    assert created["key"] not in str(events)  # the secret is never logged


async def test_a_key_cannot_mint_a_longer_lived_key(cached, tenant, seeder):
    session = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    soon = datetime.now(UTC) + timedelta(minutes=10)
    parent = await _mint(cached, session, expires_at=soon)
    as_parent = auth_headers(tenant, parent["key"])
    resp = await cached.post(
        KEYS,
        json={"name": "x", "role": "sales", "expires_at": (soon + timedelta(hours=1)).isoformat()},
        headers=as_parent,
    )
    problem = await assert_problem(resp, 422, "validation-error")
    assert "expires_at" in problem["errors"]
    # Without an expiry, the child gets its parent's, never `null`.
    child = await _mint(cached, as_parent, role="sales")
    assert datetime.fromisoformat(child["expires_at"]) == datetime.fromisoformat(
        parent["expires_at"]
    )


async def test_a_key_minted_by_a_never_expiring_key_lives_at_most_api_key_max_days(
    make_client, tenant, seeder
):
    client = await make_client(api_key_max_days=30)
    parent = await _mint(
        client, auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    )
    assert parent["expires_at"] is None  # a user's key may be open-ended
    child = await _mint(client, auth_headers(tenant, parent["key"]))
    lives = datetime.fromisoformat(child["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=29) < lives <= timedelta(days=30)


async def test_a_key_cannot_mint_a_higher_role_key(cached, tenant, seeder):
    sales_key = seeder.api_key(tenant, role="sales")
    resp = await cached.post(
        KEYS, json={"name": "up", "role": "admin"}, headers=auth_headers(tenant, sales_key)
    )
    await assert_problem(resp, 403, "forbidden")


async def test_revoking_a_key_revokes_everything_minted_from_it(cached, tenant, seeder):
    session = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    parent = await _mint(cached, session)
    child = await _mint(cached, auth_headers(tenant, parent["key"]))
    grandchild = await _mint(cached, auth_headers(tenant, child["key"]))
    for key in (parent, child, grandchild):
        assert not await _refused(cached, tenant, key["key"])  # warm in the cache
    assert (await cached.delete(f"{KEYS}/{parent['id']}", headers=session)).status == 204
    for key in (parent, child, grandchild):
        await until(lambda k=key: _refused(cached, tenant, k["key"]), 1.0, "refused")


async def test_deleting_or_demoting_the_creating_user_by_sql_revokes_its_keys(
    cached, tenant, seeder
):
    for change in (
        "delete from users where id = %s",
        "update users set role = 'sales' where id = %s",
    ):
        admin = seeder.user(tenant, "admin")
        key = await _mint(cached, auth_headers(tenant, seeder.session(tenant, admin)))
        child = await _mint(cached, auth_headers(tenant, key["key"]))
        other = seeder.api_key(tenant, role="sales")  # not of this lineage
        for k in (key["key"], child["key"], other):
            assert not await _refused(cached, tenant, k)
        seeder.run(tenant.id, change, (str(admin.id),))
        for k in (key["key"], child["key"]):
            await until(lambda k=k: _refused(cached, tenant, k), 1.0, f"refused after {change}")
        assert not await _refused(cached, tenant, other)
