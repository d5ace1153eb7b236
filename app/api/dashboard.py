"""The tenant dashboard: one read."""

from __future__ import annotations

from app.edge.call import Call
from domain.model.dashboard import Dashboard


async def summary(call: Call) -> Dashboard:
    return await call.services.dashboard.summary(call.tenant_id)
