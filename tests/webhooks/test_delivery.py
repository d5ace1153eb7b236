"""The deliverer against a real receiver: signed, in feed order, retried, never holding a
connection during a call, and one dead endpoint never delays another."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from contextlib import asynccontextmanager

import psycopg2
import pytest
from prometheus_client import CollectorRegistry
from standardwebhooks import WebhookVerificationError

from infrastructure.webhooks.addresses import AddressRefused, GuardedResolver
from infrastructure.webhooks.deliverer import Deliverer, Settings
from infrastructure.webhooks.metrics import DeliveryMetrics
from infrastructure.webhooks.secrets import AesGcmSealer
from tests.conftest import auth_headers
from tests.support.database import build_database
from tests.webhooks.conftest import KEY, Call, verified

SHORT = (0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2)


@asynccontextmanager
async def delivering(
    call_timeout: float = 1.0,
    schedule=SHORT,
    concurrency: int = 4,
    allow_private: bool = True,
    key: str = KEY,
    metrics: DeliveryMetrics | None = None,
    **settings: float,
):
    """A deliverer running in this process (`settings`: lease_margin, scan_every)."""
    db = build_database(
        os.environ["DATABASE_URL"], 4, 5.0, max_waiters=100, statement_timeout_ms=5000
    )
    deliverer = Deliverer(
        db,
        AesGcmSealer(key),
        Settings(call_timeout, schedule, allow_private, concurrency, **settings),
        metrics or DeliveryMetrics(CollectorRegistry()),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))
    try:
        yield deliverer, db
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await db.close()


async def until(condition, within: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {within}s"
        await asyncio.sleep(0.05)


async def endpoint(api, headers, url, **body):
    resp = await api.post("/api/sales/webhooks", json={"url": url, **body}, headers=headers)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def customers(api, headers, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        body = {"name": "Hooked", "email": f"hook-{uuid.uuid4().hex[:10]}@example.test"}
        resp = await api.post("/api/sales/customers", json=body, headers=headers)
        ids.append((await resp.json())["id"])
    return ids


def first_arrivals(secret: str, calls: list[Call]) -> list[str]:
    """The customer ids of the events received, in order of first arrival, each verified."""
    seen: list[str] = []
    for call in calls:
        event = verified(secret, call)
        if event["data"]["id"] not in seen:
            seen.append(event["data"]["id"])
    return seen


def admin(seeder, tenant):
    return auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))


async def test_every_delivery_verifies_in_feed_order_and_tampering_fails_verification(
    api, receiver, tenant, seeder
):
    headers = admin(seeder, tenant)
    hook = await endpoint(api, headers, receiver.url(), event_types=["customer.created"])
    made = await customers(api, headers, 3)
    async with delivering():
        await until(lambda: len(receiver.delivered) >= 3, what="3 deliveries")

    assert first_arrivals(hook["secret"], receiver.delivered) == made
    call = receiver.delivered[0]
    assert call.headers["webhook-id"] == verified(hook["secret"], call)["id"]
    with pytest.raises(WebhookVerificationError):
        verified(
            hook["secret"], Call(call.path, call.headers, call.body.replace(b"Hooked", b"Hacked"))
        )
    other = await endpoint(api, headers, receiver.url("/other"))
    with pytest.raises(WebhookVerificationError):
        verified(other["secret"], call)


async def test_a_receiver_refusing_then_failing_then_hanging_then_up_gets_every_event(
    api, receiver, tenant, seeder
):
    headers = admin(seeder, tenant)
    _quiet_other_tenants(tenant)  # so the deliverer's pool is this endpoint's alone
    hook = await endpoint(api, headers, receiver.url())
    await receiver.down()
    made = await customers(api, headers, 3)
    log = f"/api/sales/webhooks/{hook['id']}/deliveries"
    async with delivering(call_timeout=3.0) as (_, db):
        await until(lambda: failed_attempts(seeder, tenant) >= 1, what="a refused attempt")
        receiver.mode = "fail"
        await receiver.up()
        await until(lambda: receiver.calls, what="a 500")
        receiver.mode = "hang"
        hanging = len(receiver.calls)
        await until(lambda: len(receiver.calls) > hanging, what="a hanging call")
        assert _idle_in_transaction(seeder) == 0, "nothing waits on a transaction mid-call"
        # The hanging call holds no connection, so the pool is seen empty while it hangs.
        in_use = []
        while receiver.in_flight.get("/hook") == 1 and len(in_use) < 100:
            in_use.append(db.in_use)
            await asyncio.sleep(0.005)
        assert 0 in in_use, "no connection held during the call"
        await until(lambda: failed_attempts(seeder, tenant) >= 3, what="the hang timing out")
        receiver.mode = "ok"
        await until(lambda: len(receiver.delivered) >= 3, what="every event delivered")

    assert first_arrivals(hook["secret"], receiver.delivered) == made
    attempts = (await (await api.get(log, headers=headers, params={"limit": 100})).json())["items"]
    errors = [a["error"] for a in attempts if a["outcome"] == "failed"]
    assert any("Connect" in e for e in errors), errors
    assert "HTTP 500" in errors and any("no answer within 3 s" in e for e in errors), errors
    assert all(a["next_retry_at"] for a in attempts if a["outcome"] == "failed")
    assert sum(a["outcome"] == "succeeded" for a in attempts) == 3


async def test_an_endpoint_failing_past_its_schedule_is_disabled_and_says_so_in_the_feed(
    api, receiver, tenant, seeder
):
    headers = admin(seeder, tenant)
    receiver.mode = "fail"
    # A token in the path and in the query, as many receivers want them.
    full_url = receiver.url("/hook/s3cret-path-token?key=s3cret-query-token")
    hook = await endpoint(api, headers, full_url, event_types=["customer.created"])
    await customers(api, headers, 1)
    async with delivering(schedule=(0.1, 0.1)):
        url = f"/api/sales/webhooks/{hook['id']}"

        async def disabled() -> bool:
            return not (await (await api.get(url, headers=headers)).json())["enabled"]

        deadline = time.monotonic() + 30
        while not await disabled():
            assert time.monotonic() < deadline, "never disabled"
            await asyncio.sleep(0.1)
        assert len(receiver.calls) == 3  # the first try and two retries
        feed = await (await api.get("/api/sales/events", headers=headers)).json()
        last = feed["items"][-1]
        assert last["type"] == "webhook_endpoint.disabled" and last["data"]["id"] == hook["id"]
        # Every user of the tenant reads the feed: the URL shows only as far as its host.
        assert last["data"]["url"] == f"http://127.0.0.1:{receiver.port}/…"
        assert "s3cret" not in json.dumps(last)
        assert (await (await api.get(url, headers=headers)).json())["url"] == full_url

        receiver.mode = "ok"  # fixed; re-enabled, it resumes with the event that failed
        assert (await api.patch(url, json={"enabled": True}, headers=headers)).status == 200
        await until(lambda: receiver.delivered, what="the delivery after re-enabling")
    assert verified(hook["secret"], receiver.delivered[0])["type"] == "customer.created"


async def test_a_receiver_that_recovered_is_not_disabled_by_its_next_error(
    api, receiver, tenant, seeder
):
    headers = admin(seeder, tenant)
    # The first event gets through on the last retry the schedule allows; the next event's
    # first call fails. That is its first failure, not one past the end of the schedule.
    receiver.answers = ["fail", "fail", "ok", "fail"]
    hook = await endpoint(api, headers, receiver.url(), event_types=["customer.created"])
    made = await customers(api, headers, 2)
    async with delivering(schedule=(0.1, 0.1)):
        await until(lambda: len(receiver.delivered) == 2, what="both events, the second retried")

    got = await (await api.get(f"/api/sales/webhooks/{hook['id']}", headers=headers)).json()
    assert got["enabled"] and got["disabled_at"] is None
    assert first_arrivals(hook["secret"], receiver.delivered) == made
    assert len(receiver.calls) == 5


async def test_a_resend_sends_that_event_again(api, receiver, tenant, seeder):
    headers = admin(seeder, tenant)
    hook = await endpoint(api, headers, receiver.url())
    await customers(api, headers, 1)
    async with delivering():
        await until(lambda: len(receiver.delivered) == 1, what="the first delivery")
        log = f"/api/sales/webhooks/{hook['id']}/deliveries"
        (first,) = (await (await api.get(log, headers=headers)).json())["items"]
        resp = await api.post(f"{log}/{first['id']}/retry", headers=headers)
        assert resp.status == 202 and (await resp.json())["outcome"] == "pending"
        await until(lambda: len(receiver.delivered) == 2, what="the resend")
    first_id, again_id = (verified(hook["secret"], c)["id"] for c in receiver.delivered)
    assert first_id == again_id


async def test_one_hanging_endpoint_never_delays_another(api, receiver, tenant, seeder):
    headers = admin(seeder, tenant)
    hanging = await endpoint(api, headers, receiver.url("/hangs"))
    healthy = await endpoint(api, headers, receiver.url("/fine"))
    original = receiver.handle

    async def per_path(request):
        receiver.mode = "hang" if request.path.endswith("/hangs") else "ok"
        return await original(request)

    receiver.handle = per_path  # type: ignore[method-assign]
    await receiver.down()
    await receiver.up()
    made = await customers(api, headers, 5)
    async with delivering(call_timeout=20.0):
        await until(lambda: len(receiver.delivered) >= 5, what="the healthy endpoint's events")
        assert receiver.in_flight.get("/hangs") == 1, "the other call is still hanging"
        await receiver.down()  # ends the hanging call, so stopping need not wait out its timeout
    assert first_arrivals(healthy["secret"], receiver.delivered) == made
    assert hanging["id"] != healthy["id"]


async def test_a_target_that_became_private_is_refused_at_delivery_time(
    api, receiver, tenant, seeder
):
    headers = admin(seeder, tenant)
    hook = await endpoint(api, headers, receiver.url())  # allowed when it was registered
    await customers(api, headers, 1)
    async with delivering(allow_private=False):
        await until(lambda: failed_attempts(seeder, tenant) >= 1, what="a refused attempt")
    assert receiver.calls == [], "never called"
    log = f"/api/sales/webhooks/{hook['id']}/deliveries"
    attempts = (await (await api.get(log, headers=headers)).json())["items"]
    assert attempts[-1]["error"].startswith("refused: 127.0.0.1 resolves to 127.0.0.1")


async def test_the_delivery_resolver_connects_only_to_addresses_it_allowed():
    resolver = GuardedResolver(allow_private=False)
    try:
        with pytest.raises(AddressRefused):
            await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()


def failed_attempts(seeder, tenant) -> int:
    (row,) = seeder.run(
        tenant.id, "select count(*) from webhook_deliveries where outcome = 'failed'"
    )
    return row[0]


def _quiet_other_tenants(tenant) -> None:
    """Disable the endpoints earlier tests left in the shared test database (their receivers
    are gone, so the deliverer would keep retrying them): only this test's endpoint is left
    for the deliverer to work on. As the superuser, which row-level security lets through."""
    conn = psycopg2.connect(
        os.environ["ADMIN_DATABASE_URL"], dbname=os.environ["SALES_TEST_DB_NAME"]
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "update webhook_endpoints set enabled = false where tenant_id <> %s",
                (str(tenant.id),),
            )
    finally:
        conn.close()


def _idle_in_transaction(seeder) -> int:
    (row,) = seeder.run(
        None,
        "select count(*) from pg_stat_activity where datname = current_database()"
        " and usename <> current_user and state like 'idle in transaction%%'",
    )
    return row[0]
