"""A real Database (pool + metrics) on the app role, built the way the factory builds it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from infrastructure.db.database import Database
from tests.support import database as support_database
from tests.support.database_tier import require_database


def build_database(maxsize: int = 2, acquire_timeout: float = 2.0, **kw: Any) -> Database:
    return support_database.build_database(
        kw.get("url") or os.environ["DATABASE_URL"],
        maxsize,
        acquire_timeout,
        max_waiters=kw.get("max_waiters", 100),
        statement_timeout_ms=kw.get("statement_timeout_ms", 5000),
    )


@pytest.fixture
async def make_db() -> AsyncIterator[Callable[..., Database]]:
    async with support_database.closing_every(build_database) as make:
        yield make


@pytest.fixture
async def db(make_db: Callable[..., Database]) -> Database:
    return make_db()


def assert_all_idle(db: Database) -> None:
    assert db.in_use == 0
    assert db.pool.freesize == db.pool.size


def pytest_configure() -> None:
    require_database()
