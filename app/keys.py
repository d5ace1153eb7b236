"""Typed keys for what the composition root puts on the app and middlewares on the request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from app.admission import Admission
    from app.config import Config
    from app.metrics import HttpMetrics
    from app.ratelimit import LoginLimiter
    from app.services import Services
    from domain.model.identity import Principal, Tenant
    from infrastructure.db.pool import Database

CONFIG: web.AppKey[Config] = web.AppKey("config")
SERVICES: web.AppKey[Services] = web.AppKey("services")
DATABASE: web.AppKey[Database] = web.AppKey("database")
METRICS_REGISTRY: web.AppKey[CollectorRegistry] = web.AppKey("metrics_registry")
HTTP_METRICS: web.AppKey[HttpMetrics] = web.AppKey("http_metrics")
LOGIN_LIMITER: web.AppKey[LoginLimiter] = web.AppKey("login_limiter")
OPENAPI_DOC: web.AppKey[bytes] = web.AppKey("openapi_doc")
ADMISSION: web.AppKey[Admission] = web.AppKey("admission")

TENANT: web.RequestKey[Tenant] = web.RequestKey("tenant")
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
