"""The resource-version triggers (migrations 0009 and 0010) on the real database: every
committed write of a kind advances that tenant's version and announces it (a command's once
per kind, at its commit), a rolled-back one says nothing, and only the triggers may write the
versions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import time
import uuid
from decimal import Decimal

import psycopg2
import pytest

from domain.model.customers import NewCustomer
from domain.model.products import NewProduct
from infrastructure.db.errors import CommitOutcomeUnknown, QueryTimeout
from infrastructure.db.listener import Listener, Subscription
from infrastructure.db.sql import raw
from infrastructure.unit_of_work import PgUnitOfWork
from infrastructure.versions import VERSIONS_CHANNEL, VersionBook
from tests.support.sales import product


@pytest.fixture
def heard():
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"listen {VERSIONS_CHANNEL}")
    yield conn
    conn.close()


def announced(conn, within: float = 0.5) -> list[tuple[str, str, int]]:
    """(tenant, kind, version) of every notification that arrives within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        select.select([conn], [], [], max(0.0, deadline - time.monotonic()))
        conn.poll()
    found = [n.payload.split(":") for n in conn.notifies]
    conn.notifies.clear()
    return [(tenant, kind, int(version)) for tenant, kind, version, _ in found]


def test_a_plain_sql_write_advances_its_tenants_version_and_announces_it(heard, seeder, tenant):
    seeder.customer(tenant)
    customer = seeder.customer(tenant)
    seeder.run(tenant.id, "update customers set name = 'Renamed' where id = %s", (str(customer),))
    assert announced(heard) == [
        (str(tenant.id), "customers", 1),
        (str(tenant.id), "customers", 2),
        (str(tenant.id), "customers", 3),
    ]


def test_a_statement_that_changes_no_row_announces_nothing(heard, seeder, tenant):
    seeder.run(tenant.id, "update customers set name = 'x' where id = %s", (str(uuid.uuid4()),))
    assert announced(heard) == []


def test_a_rolled_back_write_announces_nothing_and_advances_nothing(heard, seeder, tenant):
    with seeder.conn.cursor() as cur:
        cur.execute("begin")
        cur.execute("select set_config('app.tenant_id', %s, true)", (str(tenant.id),))
        cur.execute(
            "insert into customers (tenant_id, name, email) values (%s, 'R', 'r@example.test')",
            (str(tenant.id),),
        )
        cur.execute("rollback")
    assert announced(heard) == []
    seeder.customer(tenant)
    assert announced(heard) == [(str(tenant.id), "customers", 1)]


def test_a_product_and_its_kinds_are_counted_apart(heard, seeder, tenant, other_tenant):
    product(seeder, tenant)
    seeder.customer(other_tenant)
    assert sorted(announced(heard)) == sorted(
        [(str(tenant.id), "products", 1), (str(other_tenant.id), "customers", 1)]
    )


def test_the_app_role_may_read_the_versions_but_not_write_them(seeder, tenant):
    seeder.customer(tenant)
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select version from resource_versions where tenant_id = %s", (str(tenant.id),)
            )
            assert cur.fetchall() == [(1,)]
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("update resource_versions set version = 0")
    finally:
        conn.close()


async def test_the_listener_reads_every_version_before_it_counts_as_up(seeder, tenant):
    seeder.customer(tenant)
    seeder.customer(tenant)
    url = os.environ["DATABASE_URL"]
    book = VersionBook()
    order: list[str] = []

    async def load(fetch):
        await book.load(fetch)
        order.append("loaded")

    listener = Listener(
        url,
        "listener_versions_test",
        probe_dsn=url,
        on_notify=lambda _: None,
        on_up=lambda: order.append("up"),
        on_down=lambda: None,
        also=[Subscription(VERSIONS_CHANNEL, book.apply, book.resume, book.suspend, load)],
    )
    listener.start()
    try:
        deadline = time.monotonic() + 5
        while not book.serving:
            assert time.monotonic() < deadline, "the book never served"
            await _tick()
        assert order == ["loaded", "up"] and book.version(tenant.id, "customers") == 2
        seeder.customer(tenant)
        while book.version(tenant.id, "customers") != 3:
            assert time.monotonic() < deadline + 5, "the third write was not heard"
            await _tick()
    finally:
        await listener.close()


async def _tick() -> None:
    await asyncio.sleep(0.01)


# ---- a command's versions advance at its commit (migration 0010) ------------------------


async def _add_customers(db, tenant_id, count: int, *, commit: bool = True) -> None:
    async with PgUnitOfWork(db, tenant_id) as uow:
        for _ in range(count):
            await uow.customers.add(NewCustomer("V", f"v-{uuid.uuid4().hex[:10]}@example.test"))
        if commit:
            await uow.commit()


async def test_a_command_announces_each_kind_it_wrote_once_at_its_commit(heard, db, tenant):
    await _add_customers(db, tenant.id, 3)
    assert announced(heard) == [(str(tenant.id), "customers", 1)]
    await _add_customers(db, tenant.id, 1, commit=False)  # rolled back: says nothing
    await _add_customers(db, tenant.id, 2)
    assert announced(heard) == [(str(tenant.id), "customers", 2)]


async def test_a_command_does_not_lock_its_version_row_before_it_commits(heard, db, tenant):
    # Under 0009 the open command's first write locked the (tenant, customers) row, and the
    # second command's write waited for it: with lock_timeout it would fail with 55P03.
    async with PgUnitOfWork(db, tenant.id) as first:
        await first.customers.add(NewCustomer("A", f"a-{uuid.uuid4().hex[:8]}@example.test"))
        async with PgUnitOfWork(db, tenant.id) as second:
            await second.writes.execute(raw("set local lock_timeout = '200ms'"))
            await second.customers.add(NewCustomer("B", f"b-{uuid.uuid4().hex[:8]}@example.test"))
            await second.commit()
        await first.commit()
    assert announced(heard) == [
        (str(tenant.id), "customers", 1),
        (str(tenant.id), "customers", 2),
    ]


def test_the_app_role_may_only_advance_what_its_writes_noted(tenant):
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute("select resource_versions_commit()")  # nothing noted: nothing happens
            for direct in ("advance", "note"):
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(
                        f"select resource_versions_{direct}('customers', array[%s::uuid])",
                        (str(tenant.id),),
                    )
                conn.rollback()
    finally:
        conn.close()


@pytest.fixture
def held_version_row(seeder, tenant):
    """An operator's open transaction holding the tenant's (customers) version row."""
    seeder.customer(tenant)  # the row exists from now on
    conn = psycopg2.connect(os.environ["MIGRATION_DATABASE_URL"])
    with conn.cursor() as cur:
        cur.execute(
            "select 1 from resource_versions where tenant_id = %s and kind = 'customers'"
            " for update",
            (str(tenant.id),),
        )
    yield
    conn.rollback()
    conn.close()


async def test_a_commit_cancelled_by_its_timeout_is_a_timeout_and_commits_nothing(
    make_db, tenant, held_version_row, seeder
):
    quick = make_db(statement_timeout_ms=300)
    email = f"timed-out-{uuid.uuid4().hex[:8]}@example.test"
    with pytest.raises(QueryTimeout) as raised:
        async with PgUnitOfWork(quick, tenant.id) as uow:
            await uow.customers.add(NewCustomer("T", email))
            await uow.commit()
    # Known not to have committed: not "commit-outcome-unknown", which asks for a retry
    # with the same Idempotency-Key as if it might have.
    assert not isinstance(raised.value, CommitOutcomeUnknown)
    assert seeder.run(tenant.id, "select 1 from customers where email = %s", (email,)) == []


async def test_a_command_waiting_for_a_version_row_does_not_stall_the_tenants_other_commands(
    db, tenant, held_version_row
):
    async def customer_with_event() -> None:
        async with PgUnitOfWork(db, tenant.id) as uow:
            customer = await uow.customers.add(
                NewCustomer("W", f"w-{uuid.uuid4().hex[:8]}@example.test")
            )
            uow.events.record("customer.created", customer)
            await uow.commit()

    waiting = asyncio.create_task(customer_with_event())  # waits for the held version row
    try:
        while not _waits_on_a_lock(tenant):
            assert not waiting.done(), waiting.result()
            await _tick()
        # Another command of the tenant, with an event: it needs the feed counter, which
        # the waiting command must not be holding. With lock_timeout it would fail if it were.
        async with PgUnitOfWork(db, tenant.id) as other:
            await other.writes.execute(raw("set local lock_timeout = '1s'"))
            sku = f"SKU-{uuid.uuid4().hex[:8]}"
            product = await other.products.add(NewProduct(sku, "P", Decimal("1.00")))
            other.events.record("product.created", product)
            await other.commit()
    finally:
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await waiting


def _waits_on_a_lock(tenant) -> bool:
    conn = psycopg2.connect(os.environ["ADMIN_DATABASE_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and wait_event_type = 'Lock' and query like %s",
                ("%resource_versions_commit%",),
            )
            return bool(cur.fetchone()[0])
    finally:
        conn.close()


def test_the_commit_function_advances_only_its_own_tenants_four_kinds(seeder, tenant, other_tenant):
    seeder.customer(other_tenant)
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    forged = f",customers|{other_tenant.id},bogus|{tenant.id},"
    try:
        with conn.cursor() as cur:
            cur.execute("select set_config('app.tenant_id', %s, true)", (str(tenant.id),))
            cur.execute("select set_config('app.versions_touched', %s, true)", (forged,))
            cur.execute("select resource_versions_commit()")
        conn.commit()
    finally:
        conn.close()
    rows = seeder.run(None, "select tenant_id::text, kind, version from resource_versions")
    assert (str(other_tenant.id), "customers", 1) in rows  # the seed's, not advanced again
    assert not [row for row in rows if row[0] == str(tenant.id) or row[1] == "bogus"]
