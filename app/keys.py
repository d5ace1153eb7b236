"""Typed keys for what the composition root puts on the app and middlewares on the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from app.config import Config
    from app.services import Services
    from domain.model.identity import Principal, Tenant
    from infrastructure.db.pool import Database

CONFIG: web.AppKey[Config] = web.AppKey("config")
SERVICES: web.AppKey[Services] = web.AppKey("services")
DATABASE: web.AppKey[Database] = web.AppKey("database")

TENANT: web.RequestKey[Tenant] = web.RequestKey("tenant")
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
