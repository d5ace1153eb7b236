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
