"""Migrations go up, down and up again on an empty database (the 'stairway')."""

from __future__ import annotations

import os
import uuid

import psycopg2
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from infrastructure.migrations import alembic_config


def _admin(sql: str, dbname: str = "postgres") -> None:
    url = make_url(os.environ["ADMIN_DATABASE_URL"]).set(database=dbname)
    conn = psycopg2.connect(url.render_as_string(hide_password=False))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def scratch_owner_url():
    name = f"sales_stairway_{uuid.uuid4().hex[:10]}"
    _admin(f"create database {name} owner sales_owner")
    _admin("alter schema public owner to sales_owner", name)
    owner = make_url(os.environ["MIGRATION_DATABASE_URL"]).set(database=name)
    yield owner.render_as_string(hide_password=False)
    _admin(f"drop database if exists {name} with (force)")


def _tables(url: str) -> set[str]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("select tablename from pg_tables where schemaname = 'public'")
            return {r[0] for r in cur.fetchall()}
    finally:
        conn.close()


def test_upgrade_downgrade_upgrade(scratch_owner_url):
    config = alembic_config(scratch_owner_url)
    command.upgrade(config, "head")
    after_first = _tables(scratch_owner_url)
    assert {"tenants", "users", "sessions", "api_keys", "customers"} <= after_first
    command.downgrade(config, "base")
    assert _tables(scratch_owner_url) == {"alembic_version"}
    command.upgrade(config, "head")
    assert _tables(scratch_owner_url) == after_first
