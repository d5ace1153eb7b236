"""A real Database (pool + metrics) built the way the bootstrap builds it, for tests that need
the database layer without the web app."""

from __future__ import annotations

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
