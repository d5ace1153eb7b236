"""Consistency-Token at the edge (issue 19, item 5): looked at only where a read of tenant data
could use it, ignored (as if absent, logged) when it asks for nothing, bound to its tenant.

The service runs with its own primary listed as a "replica": enough to install the token
edge; which server then answers a read does not matter here.
"""

from __future__ import annotations

import os
import time

import pytest
import structlog
from structlog.testing import capture_logs

from infrastructure.db.replicas.consistency import ConsistencyTokens
from tests.conftest import auth_headers
from tests.support.sales import assert_problem
from tests.support.seeder import PASSWORD

SECRET = "a-test-secret-of-32-characters!!"
TOKEN = "Consistency-Token"
GARBAGE = "garbage-that-is-no-token"


@pytest.fixture
async def service(make_client):
    return await make_client(
        database_replica_urls=(os.environ["DATABASE_URL"],), consistency_token_secret=SECRET
    )


def _ignored(events) -> list[str]:
    return [e["reason"] for e in events if e["event"] == "consistency_token_ignored"]


async def _logged(client, method, path, **kw):
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        resp = await client.request(method, path, **kw)
        await resp.read()
    return resp, events


async def test_routes_that_read_no_tenant_data_ignore_any_token_and_log_it(service, tenant):
    login = {"email": tenant.users["sales"].email, "password": PASSWORD}
    for method, path, kw in (
        ("GET", "/healthz", {}),
        ("GET", "/readyz", {}),
        ("GET", "/openapi.json", {}),
        ("POST", "/api/sales/auth/login", {"json": login, "headers": {"X-Tenant": tenant.slug}}),
    ):
        headers = {**kw.pop("headers", {}), TOKEN: GARBAGE}
        resp, events = await _logged(service, method, path, headers=headers, **kw)
        assert resp.status == 200, (path, await resp.text())
        assert _ignored(events) == ["route"], path


async def test_a_read_of_tenant_data_still_refuses_what_is_no_token(service, tenant, seeder):
    headers = {**auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))}
    resp = await service.get("/api/sales/customers", headers={**headers, TOKEN: GARBAGE})
    await assert_problem(resp, 400, "invalid-consistency-token")


async def test_a_token_is_bound_to_the_tenant_that_got_it(service, tenant, other_tenant, seeder):
    ours = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    created = await service.post(
        "/api/sales/customers", json={"name": "T", "email": "t@bound.test"}, headers=ours
    )
    assert created.status == 201
    token = created.headers[TOKEN]
    resp, events = await _logged(
        service, "GET", "/api/sales/customers", headers={**ours, TOKEN: token}
    )
    assert resp.status == 200 and _ignored(events) == []  # at home it is used
    theirs = auth_headers(other_tenant, seeder.session(other_tenant, other_tenant.users["admin"]))
    resp, events = await _logged(
        service, "GET", "/api/sales/customers", headers={**theirs, TOKEN: token}
    )
    # Header and cookie (the test client keeps cookies) both ignored in the other tenant.
    assert resp.status == 200 and set(_ignored(events)) == {"unverifiable"}


async def test_a_token_of_an_old_secret_or_past_its_horizon_is_ignored(service, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    old_secret = ConsistencyTokens("the-secret-before-a-restart", horizon=2.0)
    ours = ConsistencyTokens(SECRET, horizon=2.0)
    for token, reason in (
        (old_secret.issue(2**40, tenant.id), "unverifiable"),
        (ours.issue(2**40, tenant.id, now=time.time() - 600), "stale"),
    ):
        with capture_logs() as events:
            resp = await service.get("/api/sales/customers", headers={**headers, TOKEN: token})
        assert resp.status == 200, await resp.text()
        assert _ignored(events) == [reason]
