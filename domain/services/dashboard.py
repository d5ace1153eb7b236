"""The dashboard: one read model, no transaction."""

from __future__ import annotations

from uuid import UUID

from domain.model.dashboard import Dashboard
from domain.ports import DashboardReader


class DashboardService:
    def __init__(self, reader: DashboardReader, low_stock_threshold: int) -> None:
        self._reader = reader
        self._threshold = low_stock_threshold

    async def summary(self, tenant_id: UUID) -> Dashboard:
        return await self._reader.summary(tenant_id, self._threshold)
