"""Who is asking: the tenant (from X-Tenant, the host name or the default) and the principal.

Both are short direct queries outside any transaction (the tenant usually from a cache); the
route's `access` rule says which of them a route needs, so a request that needs neither
(health, metrics, unknown route, a malformed token) costs no round trip at all.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from uuid import UUID

import structlog
from aiohttp import web

from app.edge import auth_limits, hostile_headers
from app.edge.keys import CONFIG, CONTAINER, PRINCIPAL, ROUTE, TENANT, UNKNOWN_TENANT_LIMITER
from app.edge.rules import Access
from app.edge.types import Handler
from domain.errors import AuthenticationFailed, UnknownTenant
from domain.model.identity import Tenant
from domain.model.tokens import looks_like_token, tenant_of_api_key
from domain.ports import TenantDirectory

SESSION_COOKIE = "sales-session-id"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class TenantMismatch(Exception):
    """An API key used with an X-Tenant (or tenant host) of another tenant: 400."""

    detail = "the API key belongs to another tenant than the one the request names"


def named_tenant(request: web.Request) -> str | None:
    """The slug the request names: X-Tenant, else the first label of Host under BASE_DOMAIN."""
    config = request.app[CONFIG]
    hostile_headers.single_headers(request)  # issue 19: X-Tenant twice is a 400
    header = request.headers.get("X-Tenant")
    if header:
        return header.strip().lower()
    host = (request.host or "").split(":", 1)[0].lower()
    if config.base_domain and host.endswith("." + config.base_domain):
        label = host[: -len(config.base_domain) - 1]
        if label and "." not in label:
            return label
    return None


def tenant_slug(request: web.Request) -> str | None:
    """The named tenant, else DEFAULT_TENANT."""
    return named_tenant(request) or request.app[CONFIG].default_tenant


def _access(request: web.Request) -> Access:
    route = request[ROUTE]
    return route.access if route is not None else Access.OPEN


@web.middleware
async def tenant(request: web.Request, handler: Handler) -> web.StreamResponse:
    access = _access(request)
    if access is Access.OPEN:
        return await handler(request)
    token = bearer_token(request) or ""
    if access is Access.PRINCIPAL and not looks_like_token(token):
        # A request without a plausible token is refused before it costs any round trip,
        # even the tenant lookup of a cold cache.
        raise AuthenticationFailed()
    key_tenant = tenant_of_api_key(token) if access is Access.PRINCIPAL else None
    found: Tenant | None
    if key_tenant is not None:
        found = await _key_tenant(request, key_tenant)
    else:
        slug = tenant_slug(request)
        if not slug or not _SLUG.match(slug):
            raise UnknownTenant("no tenant given: send X-Tenant or use a tenant host name")
        found = await _lookup(request, lambda t: t.cached(slug), lambda t: t.by_slug(slug))
        if found is None:
            raise UnknownTenant(f"unknown tenant {slug!r}")
    request[TENANT] = found
    structlog.contextvars.bind_contextvars(tenant=found.slug)
    return await handler(request)


async def _key_tenant(request: web.Request, tenant_id: UUID) -> Tenant:
    """An API key names its tenant: it is served there, and a request naming another is
    refused rather than silently served in either."""
    found = await _lookup(request, lambda t: t.cached_id(tenant_id), lambda t: t.by_id(tenant_id))
    if found is None:
        raise AuthenticationFailed()  # a key of no tenant we serve is no key at all
    named = named_tenant(request)
    if named is not None and named != found.slug:
        raise TenantMismatch()
    return found


async def _lookup(
    request: web.Request,
    cached: Callable[[TenantDirectory], tuple[bool, Tenant | None]],
    fetch: Callable[[TenantDirectory], Awaitable[Tenant | None]],
) -> Tenant | None:
    """A tenant from the cache, else one round trip; an address that keeps naming unknown
    tenants is refused (429) before it costs more."""
    tenants = request.app[CONTAINER].services.tenants
    known, found = cached(tenants)
    if known:
        return found
    limiter = request.app[UNKNOWN_TENANT_LIMITER]
    address = request.remote or "unknown"
    limiter.check(address)
    found = await fetch(tenants)
    if found is None:
        limiter.take(address)
    return found


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""
    return request.cookies.get(SESSION_COOKIE)


def from_cookie(request: web.Request) -> bool:
    """The credentials are the session cookie, which a browser sends on its own (CSRF)."""
    return "Authorization" not in request.headers and SESSION_COOKIE in request.cookies


async def authenticate_request(request: web.Request) -> None:
    """Turn the request's token into its principal (one round trip), or raise 401."""
    token = bearer_token(request) or ""
    principal = await auth_limits.authenticate(request, request[TENANT].id, token)
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(principal=principal.subject)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Reads are authenticated here, inside their admission place; commands already were,
    before their body was read (app/edge/receive.py)."""
    if _access(request) is Access.PRINCIPAL and PRINCIPAL not in request:
        await authenticate_request(request)
    return await handler(request)
