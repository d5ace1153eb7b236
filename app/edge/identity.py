"""Who is asking: the tenant (its API key's, else from X-Tenant, the host name or the default).

The helpers of the pipeline's tenant stage (app/edge/pipeline.py). The tenant is a short
direct query outside any transaction, usually answered from a cache; the route's `access` rule
says whether a route needs it, so a request that needs none (health, the API document, an
unknown route, a malformed token) costs no round trip at all.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from uuid import UUID

import structlog
from aiohttp import web

from app.edge import hostile_headers
from app.edge.keys import CONFIG, CONTAINER, UNKNOWN_TENANT_LIMITER
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


def plausible_token(request: web.Request, token: str) -> None:
    """Refuse a token that cannot be one (401) before it costs any round trip, even the
    tenant lookup of a cold cache; a tenant the cache knows is still logged."""
    if not looks_like_token(token):
        _bind_cached_tenant(request)
        raise AuthenticationFailed()


def _bind_cached_tenant(request: web.Request) -> None:
    slug = tenant_slug(request)
    if slug and _SLUG.match(slug):
        known, found = request.app[CONTAINER].services.tenants.cached(slug)
        if known and found is not None:
            structlog.contextvars.bind_contextvars(tenant=found.slug)


async def key_tenant(request: web.Request, token: str) -> Tenant | None:
    """The tenant an API key names, None for a token that is no API key."""
    tenant_id = tenant_of_api_key(token)
    return None if tenant_id is None else await _key_tenant(request, tenant_id)


async def named_tenant_of(request: web.Request) -> Tenant:
    """The tenant the request names (X-Tenant, host, DEFAULT_TENANT); 404 for an unknown one."""
    slug = tenant_slug(request)
    if not slug or not _SLUG.match(slug):
        raise UnknownTenant("no tenant given: send X-Tenant or use a tenant host name")
    found = await _lookup(request, lambda t: t.cached(slug), lambda t: t.by_slug(slug))
    if found is None:
        raise UnknownTenant(f"unknown tenant {slug!r}")
    return found


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
