"""The health poller's own connection to one server (not from a read pool: a busy pool must
not make a healthy replica look late)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiopg
import psycopg2

from infrastructure.db.errors import DatabaseUnavailable
from infrastructure.db.finder import ServerFinder

PROBE_APPLICATION_NAME = "sales-api-replica-probe"


class Probe:
    """The poller's own connection to one server (found through its host list), reopened
    after any failure."""

    def __init__(self, finder: ServerFinder, timeout: float) -> None:
        self.finder = finder
        self._timeout = timeout
        self._conn: aiopg.Connection | None = None

    async def fetch(self, sql: str) -> tuple[Any, ...] | None:
        """The row, or None when the server did not answer in time (or at all)."""
        try:
            async with asyncio.timeout(self._timeout):
                if self._conn is None or self._conn.closed:
                    self._conn = await self.finder.connect()
                async with self._conn.cursor() as cur:
                    await cur.execute(sql)
                    row: tuple[Any, ...] | None = await cur.fetchone()
                    return row
        except (psycopg2.Error, OSError, TimeoutError, RuntimeError, DatabaseUnavailable):
            self.close()
            return None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def aclose(self) -> None:
        self.close()
        await self.finder.close()
