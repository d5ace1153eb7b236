"""The connection a UnitOfWork hands its write repositories, bound to the UnitOfWork's tenant."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from infrastructure.db.database import Connection
from infrastructure.db.sql import Sql


class TenantWrites:
    """Adds the `tenant_id` parameter to every statement, as `TenantReads` does for reads.

    Row-level security already confines the transaction to the tenant (BEGIN set it); the
    statements name `tenant_id` too, so the planner can use the tenant-leading indexes.
    """

    __slots__ = ("_conn", "tenant_id")

    def __init__(self, conn: Connection, tenant_id: UUID) -> None:
        self._conn = conn
        self.tenant_id = tenant_id

    async def execute(
        self, stmt: Sql, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        return await self._conn.execute(stmt, {**(params or {}), "tenant_id": self.tenant_id})
