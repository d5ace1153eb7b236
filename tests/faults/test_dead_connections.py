"""The pool and the readers against connections that die: the mechanism under the process-level
fault tests, with a real pool on the private cluster, one broken connection at a time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from domain.model.customers import NewCustomer
from infrastructure.db.database import Database
from infrastructure.db.errors import DatabaseUnavailable, PoolTimeout
from infrastructure.db.reads import GlobalReads, TenantReads
from infrastructure.db.sql import raw
from infrastructure.unit_of_work import PgUnitOfWork
from tests.faults.checks import eventually, sessions_of_the_service
from tests.support.database import build_database, closing_every

pytestmark = pytest.mark.faults

BACKEND_PID = raw("select pg_backend_pid()")
TENANT_BY_SLUG = raw("select id from tenants where slug = %(slug)s")


@pytest.fixture
async def make_db(cluster) -> AsyncIterator[Callable[..., Database]]:
    def build(maxsize: int = 1, acquire_timeout: float = 2) -> Database:
        return build_database(cluster.url("sales_app"), maxsize, acquire_timeout, max_waiters=10)

    async with closing_every(build) as make:
        yield make


@pytest.fixture
def acme(cluster) -> uuid.UUID:
    ((tenant_id,),) = cluster.query("select id from tenants where slug = 'acme'")
    return tenant_id


def kill(cluster, pid: int) -> None:
    """Terminate one backend and wait until it is gone, without yielding to our event loop:
    the pool cannot notice before it hands the connection out."""
    assert cluster.query("select pg_terminate_backend(%s, 5000)", (pid,)) == [(True,)]


def read_trips(db: Database) -> float:
    return db.metrics.round_trips.labels("read")._value.get()


def assert_idle(db: Database, cluster) -> None:
    """Nothing checked out, and every session the pool keeps is idle, none in a transaction."""
    assert db.in_use == 0
    states = [state for _, state, _ in sessions_of_the_service(cluster)]
    assert all(state == "idle" for state in states), states


async def test_a_read_on_a_dead_connection_is_retried_once_on_a_fresh_one(make_db, cluster, acme):
    db = make_db(maxsize=1)
    reader = TenantReads(db)
    ((first,),) = await reader.fetch_all(acme, BACKEND_PID)
    kill(cluster, first)

    trips = read_trips(db)
    ((second,),) = await reader.fetch_all(acme, BACKEND_PID)

    assert second != first
    assert read_trips(db) - trips == 2, "the read should have failed once and been retried"
    assert db.pool.size == 1, "the dead connection must leave the pool, not be kept beside"
    assert_idle(db, cluster)


async def test_the_tenant_lookup_is_retried_like_every_read(make_db, cluster, acme):
    db = make_db(maxsize=1)
    reader = GlobalReads(db)
    assert await reader.fetch_one(TENANT_BY_SLUG, {"slug": "acme"}) == (acme,)
    ((pid,),) = await TenantReads(db).fetch_all(acme, BACKEND_PID)
    kill(cluster, pid)

    assert await reader.fetch_one(TENANT_BY_SLUG, {"slug": "acme"}) == (acme,)
    assert_idle(db, cluster)


async def test_a_read_that_finds_the_pool_dry_is_not_retried(make_db, acme):
    db = make_db(maxsize=1, acquire_timeout=0.2)
    async with db.connection("test"):
        with pytest.raises(PoolTimeout):
            await TenantReads(db).fetch_all(acme, BACKEND_PID)
    assert db.metrics.pool_timeouts._value.get() == 1, "a dry pool must answer at once"


async def test_a_dead_connection_is_never_handed_out_again(make_db, cluster, acme):
    db = make_db(maxsize=3)
    reader = TenantReads(db)

    async def pid_held(hold: asyncio.Event) -> int:
        async with db.connection("read") as conn:
            ((pid,),) = await conn.execute(BACKEND_PID)
            await hold.wait()
            return pid

    hold = asyncio.Event()
    tasks = [asyncio.create_task(pid_held(hold)) for _ in range(3)]
    await asyncio.sleep(0.2)
    hold.set()
    dead = set(await asyncio.gather(*tasks))
    assert len(dead) == 3 and db.pool.freesize == 3
    for pid in dead:
        kill(cluster, pid)

    served = [(await reader.fetch_all(acme, BACKEND_PID))[0][0] for _ in range(6)]

    assert dead.isdisjoint(served), "a terminated backend's connection was used again"
    assert db.pool.size <= 3
    assert_idle(db, cluster)


async def test_a_command_that_lost_its_connection_fails_retryably_and_writes_nothing(
    make_db, cluster, acme
):
    db = make_db(maxsize=1)
    email = f"lost-{uuid.uuid4().hex[:10]}@example.test"

    with pytest.raises(DatabaseUnavailable):
        async with PgUnitOfWork(db, acme) as uow:
            await uow.customers.add(NewCustomer("Lost Connection", email))
            (pid,) = [p for p, state, _ in sessions_of_the_service(cluster) if state != "idle"]
            kill(cluster, pid)
            await uow.commit()

    assert cluster.query("select 1 from customers where email = %s", (email,)) == []
    assert db.pool.size == 0, "the broken connection went back to the pool"
    async with PgUnitOfWork(db, acme) as uow:  # and the next command runs on a fresh one
        await uow.customers.add(NewCustomer("After Loss", email))
        await uow.commit()
    assert len(cluster.query("select 1 from customers where email = %s", (email,))) == 1
    assert_idle(db, cluster)


async def test_a_command_cancelled_mid_statement_rolls_back_and_never_pools_its_transaction(
    make_db, cluster, acme
):
    db = make_db(maxsize=2)
    ((anvil,),) = cluster.query("select id from products where sku = 'ACME-ANVIL'")
    email = f"cancelled-{uuid.uuid4().hex[:10]}@example.test"
    lock = cluster.superuser()
    try:
        with lock.cursor() as cur:
            cur.execute("begin; select 1 from products where id = %s for update", (anvil,))
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5), PgUnitOfWork(db, acme) as uow:
                await uow.customers.add(NewCustomer("Cancelled", email))
                await uow.products.lock([anvil])  # waits for the lock until cancelled
        # Closed, not pooled: its server session is still waiting for the lock (it cannot
        # know the client left), and must never serve another request.
        assert db.in_use == 0 and db.pool.size == 0, "the cancelled command's connection was kept"
    finally:
        lock.rollback()
        lock.close()

    async def orphan_gone() -> bool:
        return sessions_of_the_service(cluster) == []

    # The server learns the client left only once it has the lock and answers; then it ends
    # the session and its transaction without committing.
    assert await eventually(orphan_gone, within=5)
    assert cluster.query("select 1 from customers where email = %s", (email,)) == []
    async with PgUnitOfWork(db, acme) as uow:
        await uow.products.lock([anvil])
    assert_idle(db, cluster)
