"""Fail fast under overload: a small pool, many slow requests, every answer bounded."""

from __future__ import annotations

import asyncio
import os
import threading

import psycopg2
import pytest

from app.edge.keys import CONTAINER
from tests.conftest import assert_pool_idle
from tests.support.sales import headers_for, order_body, product

pytestmark = pytest.mark.slow


def hold_row_lock(
    product_id, tenant_id, seconds: float, locked: threading.Event
) -> threading.Thread:
    """Lock a product row from another connection, so orders for it are slow, then let go."""

    def run() -> None:
        conn = psycopg2.connect(os.environ["MIGRATION_DATABASE_URL"])
        try:
            with conn.cursor() as cur:
                cur.execute("select set_config('app.tenant_id', %s, true)", (str(tenant_id),))
                cur.execute("select 1 from products where id = %s for update", (str(product_id),))
                locked.set()
                cur.execute("select pg_sleep(%s)", (seconds,))
            conn.rollback()
        finally:
            conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


async def test_200_slow_requests_on_a_pool_of_2_get_2xx_or_a_fast_503(make_client, tenant, seeder):
    client = await make_client(
        db_pool_max=2, db_pool_acquire_timeout=0.3, db_pool_max_waiters=1000, request_timeout=10.0
    )
    headers = headers_for(seeder, tenant, "sales")
    pid = product(seeder, tenant, stock=1000)
    customer = seeder.customer(tenant)
    await (await client.get("/api/sales/auth/me", headers=headers)).read()  # warm tenant cache
    locked = threading.Event()
    holder = hold_row_lock(pid, tenant.id, 1.5, locked)
    assert await asyncio.to_thread(locked.wait, 10)

    async def place():
        resp = await client.post(
            "/api/sales/orders", json=order_body(customer, (pid, 1)), headers=headers
        )
        body = await resp.json()
        return resp.status, body.get("type", ""), resp.headers.get("Retry-After")

    results = await asyncio.wait_for(asyncio.gather(*(place() for _ in range(200))), timeout=30)
    await asyncio.to_thread(holder.join, 10)

    assert {status for status, _, _ in results} <= {201, 503}
    fails = [r for r in results if r[0] == 503]
    assert fails, "the pool of 2 should have run dry"
    assert all(retry and retry.isdigit() for _, _, retry in fails)
    pool_timeouts = sum(1 for _, kind, _ in fails if kind.endswith("/pool-timeout"))
    db = client.app[CONTAINER].db
    assert db.metrics.pool_timeouts._value.get() == pool_timeouts
    created = sum(1 for status, _, _ in results if status == 201)
    assert seeder.count(tenant, "orders") == created
    assert_pool_idle(client)


async def test_the_waiter_bound_refuses_at_once_instead_of_queueing(make_client, tenant, seeder):
    # The admission gate would queue most of them before the pool: open it wide, so this
    # tests the pool's own bound.
    client = await make_client(
        db_pool_max=1,
        db_pool_acquire_timeout=2.0,
        db_pool_max_waiters=5,
        max_active_reads=100,
        auth_lookup_concurrency=100,  # the same for the uncached token lookups' own gate
    )
    headers = headers_for(seeder, tenant, "sales")
    await (await client.get("/api/sales/auth/me", headers=headers)).read()
    db = client.app[CONTAINER].db
    async with db.connection("test"):
        responses = await asyncio.gather(
            *(client.get("/api/sales/customers", headers=headers) for _ in range(30))
        )
        # The 5 that queued time out later; the others are refused now, without waiting.
        refused = [r for r in responses if r.status == 503]
    kinds = [(await r.json())["type"].rsplit("/", 1)[1] for r in refused]
    assert kinds.count("pool-saturated") >= 20
    assert set(kinds) <= {"pool-saturated", "pool-timeout"}
    assert_pool_idle(client)


async def test_a_full_admission_queue_answers_503_at_once_and_spares_reads_and_health(
    make_client, tenant, seeder
):
    client = await make_client(max_active_reads=1, max_active_commands=1, max_queued_requests=1)
    headers = headers_for(seeder, tenant, "sales")
    pid = product(seeder, tenant, stock=10)
    customer = seeder.customer(tenant)
    await (await client.get("/api/sales/auth/me", headers=headers)).read()
    locked = threading.Event()
    holder = hold_row_lock(pid, tenant.id, 1.0, locked)
    assert await asyncio.to_thread(locked.wait, 10)

    def order():
        return client.post(
            "/api/sales/orders", json=order_body(customer, (pid, 1)), headers=headers
        )

    # One order inside the command gate, stuck on the row lock; one queued behind it: full.
    inside = asyncio.create_task(order())
    await asyncio.sleep(0.2)
    queued = asyncio.create_task(order())
    await asyncio.sleep(0.2)
    refused = await order()
    read = await client.get("/api/sales/customers", headers=headers)
    health = await client.get("/healthz")

    assert refused.status == 503 and refused.headers["Retry-After"] == "1"
    assert (await refused.json())["type"].endswith("/overloaded")
    assert read.status == 200, "reads queue at their own gate, not behind stuck commands"
    assert health.status == 200, "routes without the database are never queued"
    assert not inside.done() and not queued.done(), "the refusal must not wait for them"
    assert (await inside).status == 201
    assert (await queued).status == 201
    await asyncio.to_thread(holder.join, 10)
    assert seeder.count(tenant, "orders") == 2, "the refused order was not written"
    assert_pool_idle(client)


async def test_a_client_slow_to_send_its_body_does_not_hold_a_command_place(
    make_client, tenant, seeder
):
    client = await make_client(max_active_commands=1, request_timeout=10.0)
    headers = headers_for(seeder, tenant, "sales")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    _reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        # Headers and the first byte of a 100-byte body, then nothing: a slow client.
        writer.write(
            (
                "POST /api/sales/customers HTTP/1.1\r\nHost: test\r\n"
                f"{head}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
            ).encode()
        )
        await writer.drain()
        await asyncio.sleep(0.2)

        body = {"name": "Not Stuck", "email": "not-stuck@example.test"}
        created = await asyncio.wait_for(
            client.post("/api/sales/customers", json=body, headers=headers), timeout=3
        )

        assert created.status == 201, "the only command place must not wait for a slow body"
    finally:
        writer.close()
    assert_pool_idle(client)
