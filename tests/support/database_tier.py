"""The guard of the database-backed test tiers (api, integration, faults, contract, process,
bench): each tier's conftest calls `require_database()`, so `pytest tests/unit` needs none."""

from __future__ import annotations

import os

import psycopg2.extras
import pytest

_REQUIRED = ("DATABASE_URL", "MIGRATION_DATABASE_URL", "ADMIN_DATABASE_URL")


def require_database() -> None:
    missing = [name for name in _REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.exit(
            f"run the database tests through scripts/test (missing {', '.join(missing)})",
            returncode=4,
        )
    psycopg2.extras.register_uuid()  # the tests' own sync queries read uuid columns as UUIDs
