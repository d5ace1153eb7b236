"""Typed keys for what the web app carries (app keys) and what middlewares put on a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from app.edge.admission import Admission, Place
    from app.edge.auth_limits import AuthLimits
    from app.edge.freshness import Freshness
    from app.edge.metrics import HttpMetrics
    from app.edge.middlewares import InFlight
    from app.edge.pipeline import Stopwatch
    from app.edge.ratelimit import LoginLimiter, TokenBuckets
    from app.edge.rules import Route
    from app.runtime.bootstrap import Container
    from app.runtime.config import Config
    from domain.model.identity import Principal, Tenant

CONFIG: web.AppKey[Config] = web.AppKey("config")
CONTAINER: web.AppKey[Container] = web.AppKey("container")
HTTP_METRICS: web.AppKey[HttpMetrics] = web.AppKey("http_metrics")
LOGIN_LIMITER: web.AppKey[LoginLimiter] = web.AppKey("login_limiter")
UNKNOWN_TENANT_LIMITER: web.AppKey[TokenBuckets] = web.AppKey("unknown_tenant_limiter")
OPENAPI_DOC: web.AppKey[bytes] = web.AppKey("openapi_doc")
ADMISSION: web.AppKey[Admission] = web.AppKey("admission")
AUTH_LIMITS: web.AppKey[AuthLimits] = web.AppKey("auth_limits")  # issue 19
ROUTE_TABLE: web.AppKey[dict[str, Route]] = web.AppKey("route_table")
IN_FLIGHT: web.AppKey[InFlight] = web.AppKey("in_flight")

ROUTE: web.RequestKey[Route | None] = web.RequestKey("route")  # None: unmatched (404, 405)
TENANT: web.RequestKey[Tenant] = web.RequestKey("tenant")
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
STOPWATCH: web.RequestKey[Stopwatch] = web.RequestKey("stopwatch")  # the pipeline's stages
PLACE: web.RequestKey[Place] = web.RequestKey("place")  # the request's admission place

# What a response tells the request event (app/edge/middlewares.py).
PROBLEM_TYPE: web.ResponseKey[str] = web.ResponseKey("problem_type")
REPLAYED: web.ResponseKey[bool] = web.ResponseKey("replayed")
CREATED_ID: web.ResponseKey[str] = web.ResponseKey("created_id")
REJECTED: web.ResponseKey[str] = web.ResponseKey("rejected")  # why the parser refused it
RECEIVING: web.RequestKey[bool] = web.RequestKey("receiving")  # the body is still arriving
# Seconds the request waited at its admission gate (issue 21: the dashboard's routes table).
QUEUED_S: web.RequestKey[float] = web.RequestKey("queued_s")

# Issue 22: answers that need no data (app/edge/freshness.py).
FRESHNESS: web.AppKey[Freshness] = web.AppKey("freshness")
VALIDATOR: web.RequestKey[str | None] = web.RequestKey("validator")  # None: no shortcut
CACHE_OUTCOME: web.ResponseKey[str] = web.ResponseKey("cache")  # hit, not_modified, miss, bypass
