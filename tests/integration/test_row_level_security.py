"""PostgreSQL itself keeps tenants apart: these run as the app role, with no app code in between
except where the read executor is the subject."""

from __future__ import annotations

import os
import uuid

import psycopg2
import psycopg2.errors
import pytest
import sqlalchemy as sa

from infrastructure.db.errors import DatabaseError
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import raw, sql
from infrastructure.db.tables import TENANT_TABLES, customers


@pytest.fixture
def app_conn():
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    yield conn
    conn.rollback()
    conn.close()


def as_tenant(conn, tenant_id):
    with conn.cursor() as cur:
        cur.execute("select set_config('app.tenant_id', %s, true)", (str(tenant_id),))


def scalar(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]


def test_app_role_is_not_privileged(app_conn):
    row = scalar(
        app_conn,
        "select row(rolsuper, rolbypassrls, rolcreaterole, rolcreatedb)::text from pg_roles where rolname = current_user",
    )
    assert row == "(f,f,f,f)"
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        scalar(app_conn, "create table sneaky (i int); select 1")


def test_every_tenant_table_has_forced_rls(app_conn):
    with app_conn.cursor() as cur:
        cur.execute(
            "select relname, relrowsecurity, relforcerowsecurity from pg_class where relname = any(%s)",
            (list(TENANT_TABLES),),
        )
        rows = {name: (enabled, forced) for name, enabled, forced in cur.fetchall()}
    assert rows == {t: (True, True) for t in TENANT_TABLES}


def test_without_a_tenant_every_tenant_table_is_empty(app_conn, tenant, seeder):
    seeder.customer(tenant)
    seeder.session(tenant, tenant.users["admin"])
    seeder.api_key(tenant)
    for table in TENANT_TABLES:
        assert scalar(app_conn, f"select count(*) from {table}") == 0, table


def test_an_empty_tenant_setting_also_sees_nothing(app_conn, tenant, seeder):
    seeder.customer(tenant)
    with app_conn.cursor() as cur:
        cur.execute("select set_config('app.tenant_id', '', true)")
    assert scalar(app_conn, "select count(*) from customers") == 0


def test_with_tenant_a_only_a_rows_are_visible(app_conn, tenant, other_tenant, seeder):
    mine = seeder.customer(tenant)
    seeder.customer(other_tenant)
    as_tenant(app_conn, tenant.id)
    with app_conn.cursor() as cur:
        cur.execute("select id, tenant_id from customers")
        rows = cur.fetchall()
    assert rows == [(mine, tenant.id)]
    assert scalar(app_conn, "select count(*) from users") == 2


def test_inserting_a_row_for_another_tenant_is_refused(app_conn, tenant, other_tenant):
    as_tenant(app_conn, tenant.id)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
        scalar(
            app_conn,
            "insert into customers (tenant_id, name, email) values (%s, 'x', 'x@x.test') returning 1",
            (str(other_tenant.id),),
        )


def test_moving_a_row_to_another_tenant_is_refused(app_conn, tenant, other_tenant, seeder):
    mine = seeder.customer(tenant)
    as_tenant(app_conn, tenant.id)
    with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="row-level security"):
        scalar(
            app_conn,
            "update customers set tenant_id = %s where id = %s returning 1",
            (str(other_tenant.id), str(mine)),
        )


def test_app_role_cannot_create_tenants(app_conn):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        scalar(app_conn, "insert into tenants (slug, name) values ('evil', 'evil') returning 1")


async def test_read_executor_cannot_write(db, tenant, seeder):
    insert = sql(
        sa.insert(customers).values(
            tenant_id=sa.bindparam("tenant_id"), name=sa.bindparam("n"), email=sa.bindparam("e")
        ),
    )
    params = {"n": "x", "e": f"{uuid.uuid4().hex}@x.test"}
    with pytest.raises(DatabaseError) as refused:
        await TenantReads(db).fetch_all(tenant.id, insert, params)
    assert refused.value.sqlstate == "25006"  # read_only_sql_transaction
    assert seeder.count(tenant, "customers") == 0


async def test_tenant_setting_does_not_survive_into_the_next_use_of_a_connection(
    make_db, tenant, other_tenant, seeder
):
    db = make_db(maxsize=1)
    reader = TenantReads(db)
    seeder.customer(tenant)
    seeder.customer(other_tenant)
    who = raw("select current_setting('app.tenant_id', true), (select count(*) from customers)")
    for _ in range(3):
        for t in (tenant, other_tenant):
            assert await reader.fetch_all(t.id, who) == [(str(t.id), 1)]
    # Same (only) connection, no setting sent: the previous tenant is gone.
    async with db.connection("read") as conn:
        assert await conn.execute(who) == [("", 0)]
        assert await conn.execute("show transaction_read_only") == [("off",)]
