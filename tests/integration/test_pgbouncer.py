"""Through PgBouncer in transaction mode, with fewer server connections than app connections,
tenants still never see each other's rows: every tenant setting is transaction-local."""

from __future__ import annotations

import asyncio

import pytest

from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import raw
from infrastructure.unit_of_work import PgUnitOfWork
from tests.integration.conftest import assert_all_idle
from tests.support.pgbouncer import SERVER_POOL_SIZE, pgbouncer_binary

pytestmark = pytest.mark.skipif(
    pgbouncer_binary() is None, reason="pgbouncer binary not found: apt-get install pgbouncer"
)

WHO = raw("select current_setting('app.tenant_id', true), (select count(*) from customers)")


async def test_interleaved_tenants_on_shared_server_connections_stay_isolated(
    make_db, _pgbouncer_url, tenant, other_tenant, seeder
):
    seeder.customer(tenant)
    for _ in range(2):
        seeder.customer(other_tenant)
    db = make_db(maxsize=SERVER_POOL_SIZE * 3, url=_pgbouncer_url, max_waiters=500)
    reader = TenantReads(db)
    expected = {tenant.id: 1, other_tenant.id: 2}

    async def read(t):
        rows = await reader.fetch_all(t.id, WHO)
        return t.id, rows

    results = await asyncio.gather(*(read(t) for _ in range(60) for t in (tenant, other_tenant)))
    for tenant_id, rows in results:
        assert rows == [(str(tenant_id), expected[tenant_id])]
    assert_all_idle(db)


async def test_a_unit_of_work_commits_and_rolls_back_through_pgbouncer(
    make_db, _pgbouncer_url, tenant, seeder
):
    from domain.model.customers import NewCustomer

    db = make_db(maxsize=4, url=_pgbouncer_url)
    async with PgUnitOfWork(db, tenant.id) as uow:
        await uow.customers.add(NewCustomer("Kept", "kept@bouncer.test"))
        await uow.commit()
    async with PgUnitOfWork(db, tenant.id) as uow:
        await uow.customers.add(NewCustomer("Dropped", "dropped@bouncer.test"))
    assert seeder.count(tenant, "customers") == 1
    # The next transaction on a shared server connection starts with no tenant at all.
    async with db.connection("read") as conn:
        assert await conn.execute(WHO) == [("", 0)]
    assert_all_idle(db)
