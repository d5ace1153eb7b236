"""The dashboard's schema, made from the answer's type."""

from __future__ import annotations

from app.api.schemas.answers import answer_schema
from domain.model.dashboard import Dashboard

DashboardOut = answer_schema(Dashboard)
