"""The incident, replayed: many concurrent users on a small pool, and a pool that is truly dry."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

from app.edge.keys import CONTAINER
from tests.conftest import assert_pool_idle, auth_headers


async def test_300_concurrent_authenticated_reads_on_a_pool_of_5_all_succeed(
    make_client, tenant, seeder
):
    client = await make_client(db_pool_max=5)
    seeder.customer(tenant)
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))

    async def read() -> int:
        resp = await client.get("/api/sales/customers?limit=20", headers=headers)
        await resp.read()
        return resp.status

    statuses = await asyncio.gather(*(read() for _ in range(300)))
    assert statuses == [200] * 300
    db = client.app[CONTAINER].db
    assert db.metrics.pool_timeouts._value.get() == 0
    assert db.pool.size <= 5
    assert_pool_idle(client)


async def test_a_dry_pool_answers_503_with_retry_after_at_the_acquire_timeout(
    make_client, tenant, seeder
):
    client = await make_client(db_pool_max=2, db_pool_acquire_timeout=0.2)
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    db = client.app[CONTAINER].db
    async with AsyncExitStack() as held:
        for _ in range(2):
            await held.enter_async_context(db.connection("test"))
        started = time.monotonic()
        resp = await client.get("/api/sales/customers", headers=headers)
        elapsed = time.monotonic() - started
        assert resp.status == 503
        assert resp.headers["Retry-After"].isdigit()
        body = await resp.json()
        assert body["type"].endswith("/pool-timeout")
        # The acquire timeout, not a hang: far below anything a client would wait for.
        assert elapsed < 1.0
    assert db.metrics.pool_timeouts._value.get() == 1
    ok = await client.get("/api/sales/customers", headers=headers)
    assert ok.status == 200
    assert_pool_idle(client)
