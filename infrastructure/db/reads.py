"""One-trip reads: the executors every read repository runs its statements through.

The tenant setting, a read-only guard and the statement travel as ONE simple-protocol query
(the preludes are in infrastructure/db/tenancy.py). PostgreSQL runs a multi-statement query as
one implicit transaction, so `set_config(..., true)` lasts exactly as long as the statement:
row-level security applies, no write can happen, and the connection goes back to the pool
clean, right after the rows arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import lru_cache, partial
from typing import Any
from uuid import UUID

from infrastructure.db.database import Database
from infrastructure.db.errors import DatabaseUnavailable, PoolSaturated, PoolTimeout, QueryTimeout
from infrastructure.db.sql import Sql
from infrastructure.db.tenancy import GLOBAL_READ_PRELUDE, TENANT_READ_PRELUDE

Row = tuple[Any, ...]
Params = Mapping[str, Any]
# Runs one whole read query: straight on the primary (`read_on`), or routed between the
# primary and the replicas (infrastructure/db/replicas/routing.py).
ReadRunner = Callable[[str, Params], Awaitable[list[Row]]]

# A dry pool or a slow query is not a lost connection: trying again would only double the
# wait (the client is owed a fast 503) and the load on a database that is already behind.
_NOT_WORTH_RETRYING = (PoolTimeout, PoolSaturated, QueryTimeout)


@lru_cache(maxsize=512)
def tenant_read_text(stmt: Sql) -> str:
    """The whole one-trip query text of a tenant-scoped read (the benchmark renders it too)."""
    return TENANT_READ_PRELUDE + stmt.text


class TenantReads:
    """Runs a read repository's statement under one tenant.

    The executor adds the `tenant_id` parameter itself: the prelude and the statement's own
    WHERE clause use the same one, so a repository never passes the tenant twice.
    """

    def __init__(self, db: Database, routed: ReadRunner | None = None) -> None:
        self._db = db
        # Without replicas: straight to the primary, the very call made before replicas existed.
        self._run: ReadRunner = routed or partial(read_on, db)

    async def fetch_all(
        self, tenant_id: UUID, stmt: Sql, params: Params | None = None
    ) -> list[Row]:
        merged = {
            **(params or {}),
            "tenant_id": tenant_id,
            "_statement_timeout": self._db.statement_timeout,
        }
        return await self._run(tenant_read_text(stmt), merged)

    async def fetch_one(
        self, tenant_id: UUID, stmt: Sql, params: Params | None = None
    ) -> Row | None:
        rows = await self.fetch_all(tenant_id, stmt, params)
        return rows[0] if rows else None


class GlobalReads:
    """Reads of tables that are not tenant-owned (tenants), still read-only and one trip."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def fetch_one(self, stmt: Sql, params: Params) -> Row | None:
        merged = {**params, "_statement_timeout": self._db.statement_timeout}
        rows = await read_on(self._db, GLOBAL_READ_PRELUDE + stmt.text, merged)
        return rows[0] if rows else None


async def read_on(db: Database, text: str, params: Params) -> list[Row]:
    """Every read the primary serves runs here, tenant-scoped ones and the tenant lookup alike."""
    try:
        return await read_once(db, text, params)
    except _NOT_WORTH_RETRYING:
        raise
    except DatabaseUnavailable:
        # A read is idempotent: a connection that died under it (database restart,
        # terminated backend) is discarded by the pool, and one fresh try is safe. Yield once
        # first: when the server went away, the other idle connections' sockets are readable
        # too, and one turn of the loop lets the driver mark them closed so the retry does
        # not take another dead one.
        await asyncio.sleep(0)
        return await read_once(db, text, params)


async def read_once(db: Database, text: str, params: Params) -> list[Row]:
    async with db.connection("read") as conn:
        return await conn.execute(text, params)
