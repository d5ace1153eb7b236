"""The principal cache in one worker, on the real database: warm requests cost no auth round
trip, and every revocation PostgreSQL announces is refused at once."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import timedelta

import pytest
import structlog
from structlog.testing import capture_logs

from app.edge.keys import CONTAINER
from tests.conftest import auth_headers, until_listening

ME = "/api/sales/auth/me"
CUSTOMERS = "/api/sales/customers"


async def until(condition, within: float = 5.0, what: str = "condition") -> float:
    """Poll `condition` (sync or async) until true; returns the seconds it took."""
    started = time.monotonic()
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return time.monotonic() - started
        assert time.monotonic() - started < within, f"{what} not within {within}s"
        await asyncio.sleep(0.01)


def request_events(events):
    return [e for e in events if e["event"] == "request"]


async def logged(client, method, path, **kw):
    """One request and its `request` event."""
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        resp = await client.request(method, path, **kw)
        await resp.read()
    (event,) = request_events(events)
    return resp, event


async def test_a_warm_me_costs_no_round_trip_and_a_warm_page_one(cached, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    cold, cold_event = await logged(cached, "GET", ME, headers=headers)
    me, me_event = await logged(cached, "GET", ME, headers=headers)
    page, page_event = await logged(cached, "GET", CUSTOMERS, headers=headers)
    assert cold.status == me.status == page.status == 200
    assert (cold_event["auth_cache"], cold_event["db_round_trips"]) == ("miss", 2)  # + tenant
    assert (me_event["auth_cache"], me_event["db_round_trips"]) == ("hit", 0)
    assert (page_event["auth_cache"], page_event["db_round_trips"]) == ("hit", 1)


async def test_a_warm_api_key_costs_no_round_trip(cached, tenant, seeder):
    headers = auth_headers(tenant, seeder.api_key(tenant))
    await cached.get(ME, headers=headers)
    resp, event = await logged(cached, "GET", ME, headers=headers)
    assert resp.status == 200 and event["db_round_trips"] == 0


async def test_with_a_ttl_of_zero_every_request_looks_the_token_up(make_client, tenant, seeder):
    client = await make_client(auth_cache_ttl=0)
    assert not client.app[CONTAINER].auth_cache.serving
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    await client.get(ME, headers=headers)
    resp, event = await logged(client, "GET", ME, headers=headers)
    assert resp.status == 200
    assert (event["auth_cache"], event["db_round_trips"]) == ("off", 1)


@pytest.mark.parametrize(
    "revoke",
    [
        "update sessions set revoked_at = now() where id = %(digest)s",
        "update sessions set expires_at = now() - interval '1 second' where id = %(digest)s",
        "delete from sessions where id = %(digest)s",
        "delete from users where id = %(user)s",
    ],
    ids=["revoked", "expiry-moved", "deleted", "user-deleted"],
)
async def test_a_session_withdrawn_by_plain_sql_is_refused_within_a_second(
    cached, tenant, seeder, revoke
):
    from domain.model import tokens

    user = seeder.user(tenant, "sales")
    token = seeder.session(tenant, user)
    headers = auth_headers(tenant, token)
    await cached.get(ME, headers=headers)
    assert (await logged(cached, "GET", ME, headers=headers))[1]["auth_cache"] == "hit"

    seeder.run(tenant.id, revoke, {"digest": tokens.digest(token), "user": str(user.id)})

    async def refused():
        return (await cached.get(ME, headers=headers)).status == 401

    assert await until(refused, within=1.0, what="refusal") < 1.0


async def test_an_api_key_revoked_by_sql_is_refused_within_a_second(cached, tenant, seeder):
    from domain.model import tokens

    key = seeder.api_key(tenant)
    headers = auth_headers(tenant, key)
    await cached.get(ME, headers=headers)
    assert (await logged(cached, "GET", ME, headers=headers))[1]["auth_cache"] == "hit"

    seeder.run(
        tenant.id,
        "update api_keys set revoked_at = now() where key_hash = %s",
        (tokens.digest(key),),
    )

    async def refused():
        return (await cached.get(ME, headers=headers)).status == 401

    await until(refused, within=1.0, what="refusal")


async def test_a_role_lowered_by_sql_is_refused_an_admin_action_within_a_second(
    cached, tenant, seeder
):
    admin = seeder.user(tenant, "admin")
    headers = auth_headers(tenant, seeder.session(tenant, admin))
    action = f"/api/sales/products/{uuid.uuid4()}"  # an admin may look: 404; others: 403
    assert (await cached.patch(action, json={"active": True}, headers=headers)).status == 404
    assert (await logged(cached, "GET", ME, headers=headers))[1]["auth_cache"] == "hit"

    seeder.run(tenant.id, "update users set role = 'sales' where id = %s", (str(admin.id),))

    async def forbidden():
        return (await cached.patch(action, json={"active": True}, headers=headers)).status == 403

    await until(forbidden, within=1.0, what="403")


async def test_a_password_change_ends_the_users_cached_sessions_and_no_one_elses(
    cached, tenant, seeder
):
    # Issue 19: a new password ends every session of the user (migration 0008's trigger);
    # the revocations are what the cache hears, so nobody else's entry is dropped.
    user = seeder.user(tenant, "sales")
    headers = auth_headers(tenant, seeder.session(tenant, user))
    other = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    for each in (headers, other):
        await cached.get(ME, headers=each)
    seeder.run(tenant.id, "update users set password_hash = 'x' where id = %s", (str(user.id),))

    async def refused() -> bool:
        return (await cached.get(ME, headers=headers)).status == 401

    await until(refused, within=1.0, what="401")
    assert (await logged(cached, "GET", ME, headers=other))[1]["auth_cache"] == "hit"


async def test_logout_is_refused_by_the_same_worker_at_once(cached, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    await cached.get(ME, headers=headers)
    assert (await cached.post("/api/sales/auth/logout", headers=headers)).status == 204
    resp, event = await logged(cached, "GET", ME, headers=headers)
    assert resp.status == 401 and event["auth_cache"] == "miss"


async def test_an_expired_session_is_refused_from_the_cache_without_a_round_trip(
    cached, tenant, seeder
):
    token = seeder.session(tenant, tenant.users["sales"], expires_in=timedelta(seconds=1))
    headers = auth_headers(tenant, token)
    assert (await cached.get(ME, headers=headers)).status == 200
    await asyncio.sleep(1.05)  # the session's own lifetime, not a guess at a delivery time
    resp, event = await logged(cached, "GET", ME, headers=headers)
    assert resp.status == 401
    assert (event["auth_cache"], event["db_round_trips"]) == ("expired", 0)


async def test_an_expired_api_key_is_refused_from_the_cache_without_a_round_trip(
    cached, tenant, seeder
):
    key = seeder.api_key(tenant, expires_in=timedelta(seconds=1))
    headers = auth_headers(tenant, key)
    assert (await cached.get(ME, headers=headers)).status == 200
    await asyncio.sleep(1.05)
    resp, event = await logged(cached, "GET", ME, headers=headers)
    assert resp.status == 401
    assert (event["auth_cache"], event["db_round_trips"]) == ("expired", 0)
    # and the database agrees once asked
    resp, event = await logged(cached, "GET", ME, headers=headers)
    assert resp.status == 401 and event["auth_cache"] == "miss"


async def test_metrics_show_hits_misses_invalidations_and_the_listener(
    cached, admin_of, tenant, seeder
):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    for _ in range(3):
        await cached.get(ME, headers=headers)
    await cached.post("/api/sales/auth/logout", headers=headers)
    text = await (await (await admin_of(cached)).get("/metrics")).text()
    assert "auth_cache_hits_total 3.0" in text  # the logout's own authentication is a hit
    assert "auth_cache_misses_total 1.0" in text
    assert 'auth_cache_invalidations_total{kind="logout"} 1.0' in text
    assert "auth_listener_up 1.0" in text
    assert "auth_listener_outages_total 0.0" in text


# ---- behind PgBouncer (transaction mode) ------------------------------------------------------


@pytest.fixture
def bouncer_url(_pgbouncer_url):
    if _pgbouncer_url is None:
        pytest.skip("pgbouncer binary not found: apt-get install pgbouncer")
    return _pgbouncer_url


async def test_behind_pgbouncer_a_direct_listener_url_turns_the_cache_on(
    make_client, bouncer_url, tenant, seeder
):
    client = await make_client(
        database_url=bouncer_url, auth_listen_database_url=os.environ["DATABASE_URL"]
    )
    await until_listening(client)
    token = seeder.session(tenant, tenant.users["sales"])
    headers = auth_headers(tenant, token)
    await client.get(ME, headers=headers)
    assert (await logged(client, "GET", ME, headers=headers))[1]["db_round_trips"] == 0
    # and it hears revocations, also those made through PgBouncer
    assert (await client.post("/api/sales/auth/logout", headers=headers)).status == 204
    other = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    await client.get(ME, headers=other)
    seeder.run(tenant.id, "update sessions set revoked_at = now() where revoked_at is null")

    async def refused():
        return (await client.get(ME, headers=other)).status == 401

    await until(refused, within=1.0, what="refusal")


async def test_behind_pgbouncer_without_a_direct_url_the_cache_stays_off(
    make_client, admin_of, bouncer_url, tenant, seeder
):
    client = await make_client(database_url=bouncer_url)
    listener = client.app[CONTAINER].listener
    await until(lambda: listener.state != "starting", what="the listener's first try")
    assert listener.state == "deaf" and not client.app[CONTAINER].auth_cache.listening
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    await client.get(ME, headers=headers)
    resp, event = await logged(client, "GET", ME, headers=headers)
    assert resp.status == 200
    assert (event["auth_cache"], event["db_round_trips"]) == ("bypass", 1)
    admin = await admin_of(client)
    assert "auth_listener_up 0.0" in await (await admin.get("/metrics")).text()
