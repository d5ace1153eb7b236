"""The environment `scripts/run` and `scripts/cli` get in tests: a database of their own, which
they provision on the test run's server, and dropping it afterwards."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg2


def run_env(db_name: str) -> dict[str, str]:
    """scripts/run's environment for a database of its own, provisioned by scripts/run."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT", "ADMIN_PORT")}
    env |= {"DATABASE_URL": os.environ["ADMIN_DATABASE_URL"], "SALES_DB_NAME": db_name}
    # Provisioning (re)sets the roles' passwords: keep the ones this test run connects with.
    for variable, url in (
        ("DB_OWNER_PASSWORD", "MIGRATION_DATABASE_URL"),
        ("DB_APP_PASSWORD", "DATABASE_URL"),
    ):
        password = urlsplit(os.environ[url]).password
        if password is not None:
            env[variable] = password
    return env


def drop_database(db_name: str) -> None:
    conn = psycopg2.connect(os.environ["ADMIN_DATABASE_URL"])
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    finally:
        conn.close()
