"""One-trip tenant-scoped reads.

The tenant setting, a read-only guard and the statement travel as ONE simple-protocol query.
PostgreSQL runs a multi-statement query as one implicit transaction, so `set_config(..., true)`
lasts exactly as long as the statement: row-level security applies, no write can happen, and
the connection goes back to the pool clean, right after the rows arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from uuid import UUID

from infrastructure.db.errors import DatabaseUnavailable, PoolSaturated, PoolTimeout, QueryTimeout
from infrastructure.db.pool import Database
from infrastructure.db.sql import Sql

Row = tuple[Any, ...]

# A dry pool or a slow query is not a lost connection: trying again would only double the
# wait (the client is owed a fast 503) and the load on a database that is already behind.
_NOT_WORTH_RETRYING = (PoolTimeout, PoolSaturated, QueryTimeout)

_GUARD = (
    "select set_config('app.tenant_id', %(_tenant)s, true),"
    " set_config('statement_timeout', %(_timeout)s, true);"
    " set local transaction_read_only = on; "
)


@lru_cache(maxsize=512)
def _guarded(stmt: Sql) -> str:
    return _GUARD + stmt.text


class TenantReader:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def fetch_all(
        self, tenant_id: UUID, stmt: Sql, params: Mapping[str, Any] | None = None
    ) -> list[Row]:
        merged = {
            **(params or {}),
            "_tenant": str(tenant_id),
            "_timeout": self._db.statement_timeout,
        }
        return await _read(self._db, _guarded(stmt), merged)

    async def fetch_one(
        self, tenant_id: UUID, stmt: Sql, params: Mapping[str, Any] | None = None
    ) -> Row | None:
        rows = await self.fetch_all(tenant_id, stmt, params)
        return rows[0] if rows else None


class GlobalReader:
    """Reads of tables that are not tenant-owned (tenants), still read-only and one trip."""

    _GUARD = (
        "select set_config('statement_timeout', %(_timeout)s, true);"
        " set local transaction_read_only = on; "
    )

    def __init__(self, db: Database) -> None:
        self._db = db

    async def fetch_one(self, stmt: Sql, params: Mapping[str, Any]) -> Row | None:
        merged = {**params, "_timeout": self._db.statement_timeout}
        rows = await _read(self._db, self._GUARD + stmt.text, merged)
        return rows[0] if rows else None


async def _read(db: Database, text: str, params: Mapping[str, Any]) -> list[Row]:
    """Every read runs here, tenant-scoped ones and the tenant lookup alike."""
    try:
        return await _once(db, text, params)
    except _NOT_WORTH_RETRYING:
        raise
    except DatabaseUnavailable:
        # A read is idempotent: a connection that died under it (database restart,
        # terminated backend) is discarded by the pool, and one fresh try is safe. Yield once
        # first: when the server went away, the other idle connections' sockets are readable
        # too, and one turn of the loop lets the driver mark them closed so the retry does
        # not take another dead one.
        await asyncio.sleep(0)
        return await _once(db, text, params)


async def _once(db: Database, text: str, params: Mapping[str, Any]) -> list[Row]:
    async with db.connection("read") as conn:
        return await conn.execute(text, params)
