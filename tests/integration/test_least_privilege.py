"""The app role can do nothing to the schema version: only the owner's migrations write it."""

from __future__ import annotations

import os

import psycopg2
import psycopg2.errors
import pytest


@pytest.mark.parametrize(
    "statement",
    [
        "update alembic_version set version_num = version_num",
        "insert into alembic_version (version_num) values ('9999')",
        "delete from alembic_version",
        "select version_num from alembic_version",
    ],
    ids=["update", "insert", "delete", "select"],
)
def test_the_app_role_cannot_touch_alembic_version(statement):
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)
    finally:
        conn.rollback()
        conn.close()


def _one(url: str, statement: str) -> object:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchone()[0]
    finally:
        conn.rollback()
        conn.close()


def test_the_app_role_is_not_a_member_of_pg_monitor():
    """pg_monitor would let the app read every session's query text: only the dashboard's
    monitoring role (MONITOR_DATABASE_URL) has it."""
    statement = "select pg_has_role(current_user, 'pg_monitor', 'MEMBER')"
    assert _one(os.environ["DATABASE_URL"], statement) is False


def test_the_monitoring_role_has_pg_monitor_and_cannot_read_a_table():
    url = os.environ["MONITOR_DATABASE_URL"]
    assert _one(url, "select pg_has_role(current_user, 'pg_monitor', 'USAGE')") is True
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("select count(*) from public.customers")
    finally:
        conn.rollback()
        conn.close()
