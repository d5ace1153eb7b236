"""Middlewares, outermost first: request context and logging, errors, tenant, authentication.

Tenant resolution and authentication are short direct queries outside any transaction; a
request that needs no database (unknown route, health, metrics, malformed token) takes none.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from app import problems
from app.http import BadRequest, UnsupportedMediaType
from app.keys import CONFIG, PRINCIPAL, REQUEST_ID, SERVICES, TENANT
from domain.errors import AuthenticationFailed, UnknownTenant
from domain.model.tokens import looks_like_token
from infrastructure.db.stats import begin_request

log = structlog.get_logger("app.request")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "sales-session-id"
PUBLIC_ROUTES = frozenset({"auth.login"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

_HTTP_TYPES = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def _route_template(request: web.Request) -> str | None:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else None


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    stats = begin_request()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    response = await handler(request)  # `errors` below turns every failure into a response
    duration = time.perf_counter() - started
    response.headers["X-Request-ID"] = request_id
    response.headers["Server-Timing"] = (
        f"db;dur={stats.hold_s * 1000:.2f}, pool;dur={stats.wait_s * 1000:.2f}, "
        f"app;dur={duration * 1000:.2f}"
    )
    log.info(
        "request",
        method=request.method,
        route=_route_template(request),
        status=response.status,
        duration_ms=round(duration * 1000, 2),
        db_round_trips=stats.round_trips,
        db_hold_ms=round(stats.hold_s * 1000, 3),
        pool_wait_ms=round(stats.wait_s * 1000, 3),
    )
    return response


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.get(REQUEST_ID)
    try:
        async with asyncio.timeout(request.app[CONFIG].request_timeout):
            return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _http_problem(exc, request_id)
    except BadRequest as exc:
        return problems.problem(400, "malformed-json", "Malformed JSON", str(exc), request_id)
    except UnsupportedMediaType as exc:
        return problems.problem(
            415, "unsupported-media-type", "Unsupported media type", str(exc), request_id
        )
    except ConnectionResetError:
        # The client went away while we read its body: nothing to answer, nothing went wrong
        # on our side, and nothing was written (commands read the body before the UoW opens).
        log.info("client_disconnected")
        return problems.problem(
            400,
            "client-disconnected",
            "Client disconnected",
            "the client closed the connection",
            request_id,
        )
    except TimeoutError:
        log.warning("request_timeout")
        return problems.problem(
            503,
            "request-timeout",
            "Request took too long",
            "the request did not finish within the deadline; it was rolled back",
            request_id,
            {"Retry-After": "1"},
        )
    except Exception as exc:
        known = problems.from_exception(exc, request_id)
        if known is not None:
            return known
        log.exception("unhandled_error")
        return problems.problem(
            500, "internal-error", "Internal error", "an unexpected error occurred", request_id
        )


def _http_problem(exc: web.HTTPException, request_id: str | None) -> web.Response:
    slug, title = _HTTP_TYPES.get(exc.status, ("http-error", exc.reason))
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    return problems.problem(exc.status, slug, title, detail, request_id, headers)


def tenant_slug(request: web.Request) -> str | None:
    """X-Tenant header, else the first label of Host under BASE_DOMAIN, else DEFAULT_TENANT."""
    config = request.app[CONFIG]
    header = request.headers.get("X-Tenant")
    if header:
        return header.strip().lower()
    host = (request.host or "").split(":", 1)[0].lower()
    if config.base_domain and host.endswith("." + config.base_domain):
        label = host[: -len(config.base_domain) - 1]
        if label and "." not in label:
            return label
    return config.default_tenant


def _needs_tenant(request: web.Request) -> bool:
    return request.match_info.http_exception is None and request.path.startswith("/api/")


def _needs_auth(request: web.Request) -> bool:
    return _needs_tenant(request) and request.match_info.route.name not in PUBLIC_ROUTES


@web.middleware
async def tenant(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _needs_tenant(request):
        return await handler(request)
    if _needs_auth(request) and not looks_like_token(bearer_token(request) or ""):
        # A request without a plausible token is refused before it costs any round trip,
        # even the tenant lookup of a cold cache.
        raise AuthenticationFailed()
    slug = tenant_slug(request)
    if not slug or not _SLUG.match(slug):
        raise UnknownTenant("no tenant given: send X-Tenant or use a tenant host name")
    found = await request.app[SERVICES].tenants.by_slug(slug)
    if found is None:
        raise UnknownTenant(f"unknown tenant {slug!r}")
    request[TENANT] = found
    structlog.contextvars.bind_contextvars(tenant=found.slug)
    return await handler(request)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""
    return request.cookies.get(SESSION_COOKIE)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not _needs_auth(request):
        return await handler(request)
    token = bearer_token(request) or ""
    principal = await request.app[SERVICES].auth.authenticate(request[TENANT].id, token)
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(principal=principal.subject)
    return await handler(request)
