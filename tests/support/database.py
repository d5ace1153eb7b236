"""A real Database (pool + metrics) built the way the bootstrap builds it, for tests that need
the database layer without the web app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CollectorRegistry

from infrastructure.db.database import Database, open_pool
from infrastructure.db.metrics import DbMetrics


def build_database(
    url: str,
    maxsize: int = 2,
    acquire_timeout: float = 2.0,
    max_waiters: int = 100,
    statement_timeout_ms: int = 5000,
) -> Database:
    return Database(
        open_pool(url, maxsize=maxsize, connect_timeout=10),
        DbMetrics(CollectorRegistry(), maxsize),
        acquire_timeout=acquire_timeout,
        max_waiters=max_waiters,
        statement_timeout_ms=statement_timeout_ms,
    )


@asynccontextmanager
async def closing_every(
    build: Callable[..., Database],
) -> AsyncIterator[Callable[..., Database]]:
    """`build`, as often as the block calls it; every Database it built is closed on the way out."""
    made: list[Database] = []

    def make(*args: Any, **kw: Any) -> Database:
        db = build(*args, **kw)
        made.append(db)
        return db

    try:
        yield make
    finally:
        for db in made:
            await db.close()
