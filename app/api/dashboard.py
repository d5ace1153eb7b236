"""The tenant dashboard: one read."""

from __future__ import annotations

from app.edge.call import Plain
from domain.model.dashboard import Dashboard


async def summary(call: Plain) -> Dashboard:
    return await call.services.dashboard.summary(call.tenant_id)
