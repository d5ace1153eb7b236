"""The UnitOfWork commits only when told to, and always hands its connection back clean."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domain.model.customers import NewCustomer
from infrastructure.db.errors import TransientConflict, UniqueViolation
from infrastructure.unit_of_work import PgUnitOfWork, run_command
from tests.integration.conftest import assert_all_idle


def new_customer() -> NewCustomer:
    return NewCustomer("Uow Test", f"uow-{uuid.uuid4().hex[:10]}@example.test")


async def test_commit_persists(db, tenant, seeder):
    async with PgUnitOfWork(db, tenant.id) as uow:
        created = await uow.customers.add(new_customer())
        await uow.commit()
    assert seeder.count(tenant, "customers", "id = %s", (created.id,)) == 1
    assert db.metrics.commits._value.get() == 1
    assert_all_idle(db)


async def test_leaving_without_commit_rolls_back(db, tenant, seeder):
    async with PgUnitOfWork(db, tenant.id) as uow:
        await uow.customers.add(new_customer())
    assert seeder.count(tenant, "customers") == 0
    assert db.metrics.rollbacks._value.get() == 1
    assert_all_idle(db)


async def test_an_exception_rolls_back_and_propagates(db, tenant, seeder):
    with pytest.raises(RuntimeError, match="boom"):
        async with PgUnitOfWork(db, tenant.id) as uow:
            await uow.customers.add(new_customer())
            raise RuntimeError("boom")
    assert seeder.count(tenant, "customers") == 0
    assert_all_idle(db)


async def test_cancellation_mid_command_rolls_back_and_frees_the_connection(
    make_db, tenant, seeder
):
    db = make_db(maxsize=1)
    entered = asyncio.Event()

    async def command() -> None:
        async with PgUnitOfWork(db, tenant.id) as uow:
            await uow.customers.add(new_customer())
            entered.set()
            await uow._conn.execute("select pg_sleep(5)")  # cancelled while the query runs
            await uow.commit()

    task = asyncio.create_task(command())
    await entered.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seeder.count(tenant, "customers") == 0
    assert db.in_use == 0
    # The one connection slot is usable again, outside any transaction.
    async with PgUnitOfWork(db, tenant.id) as uow:
        await uow.customers.add(new_customer())
        await uow.commit()
    assert seeder.count(tenant, "customers") == 1
    assert_all_idle(db)


async def test_the_tenant_setting_is_transaction_local(db, tenant):
    async with PgUnitOfWork(db, tenant.id) as uow:
        assert await uow._conn.execute("select current_setting('app.tenant_id')") == [
            (str(tenant.id),)
        ]
        await uow.commit()
    async with db.connection("read") as conn:
        assert await conn.execute("select current_setting('app.tenant_id', true)") == [("",)]


async def test_run_command_retries_serialization_failures_only(db):
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientConflict("40001")
        return "done"

    assert await run_command(flaky, db) == "done"
    assert len(calls) == 3

    async def broken() -> None:
        calls.append(1)
        raise UniqueViolation("customers_email_key")

    calls.clear()
    with pytest.raises(UniqueViolation):
        await run_command(broken, db)
    assert len(calls) == 1
