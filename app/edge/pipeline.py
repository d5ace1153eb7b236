"""Every route's request, stage by stage: the one place their order is written down.

    resolve tenant -> (commands: authenticate -> receive the body)
        -> (versioned reads, principal remembered: 304 or 200 from memory) -> admission
        -> (reads: authenticate -> 304 or 200 from memory) -> parse -> handler -> answer

`pipeline(route)` is the aiohttp handler of one row of the route table; the row's rules decide
which stages run. Around it only cross-cutting middlewares remain (app/edge/middlewares.py:
request id and the request event, metrics, errors as problems; with replicas, the
Consistency-Token). Each stage that ran is timed into Server-Timing (`Stopwatch`).

Why this order:
- the tenant first: a request without a plausible token, or naming no tenant, is refused
  before it costs anything;
- a command's caller is authenticated before a byte of its body is read (a bad token with a
  2 MiB body is a 401, not a 413), and the body is read before the command queues for a
  place, so a client that stalls mid-body holds nothing;
- a read is authenticated inside its place: with a cold principal cache that is a database
  read, and the reads gate is what keeps database-backed reads from piling up;
- a versioned read (`Route.depends_on`) whose principal the worker remembers is answered
  before admission when its versions allow (app/edge/freshness.py): a 304 needs no place.
"""

from __future__ import annotations

import time

import structlog
from aiohttp import web

from app.edge import auth_limits, hostile_headers
from app.edge.admission import Place
from app.edge.consistency import read_tokens
from app.edge.endpoint import Endpoint
from app.edge.identity import (
    bearer_token,
    from_cookie,
    key_tenant,
    named_tenant_of,
    plausible_token,
)
from app.edge.keys import (
    ADMISSION,
    CONTAINER,
    FRESHNESS,
    LOGIN_LIMITER,
    PLACE,
    PRINCIPAL,
    QUEUED_S,
    RECEIVING,
    STOPWATCH,
    TENANT,
)
from app.edge.rules import Access, Route
from app.edge.types import Handler
from infrastructure.tracing import span


class CrossSiteRequest(Exception):
    """A browser sent a cookie-authenticated command from another site (403): CSRF."""

    detail = "a command authenticated by the session cookie must come from this site"


# Sec-Fetch-Site values a cookie command may carry (Fetch Metadata; OWASP's Cross-Site
# Request Forgery Prevention Cheat Sheet). Browsers send the header on every request, so a
# forged cross-site POST says `cross-site` or `same-site`; non-browser clients (cURL,
# generated clients, other services) never send it, and must not need a Content-Type for a
# command without a body. The cookie's SameSite=Lax is the second line (app/api/auth.py).
_OWN_SITE = frozenset({"same-origin"})


class BodyTimeout(Exception):
    """The client did not finish sending its body within the request deadline (408)."""

    detail = "the request body did not arrive within the deadline"


class Stopwatch:
    """When each stage of a request ended, for Server-Timing (`name;dur=<ms>` per stage)."""

    __slots__ = ("last", "stages")

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.stages: list[tuple[str, float]] = []

    def mark(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages.append((stage, now - self.last))
        self.last = now


def pipeline(route: Route) -> Handler:
    """The handler of `route`: its stages, top to bottom."""
    endpoint = Endpoint(route)
    needs_tenant = route.access is not Access.OPEN
    needs_principal = route.access is Access.PRINCIPAL
    is_command = route.changes_state
    versioned = bool(route.depends_on) and needs_principal and not is_command

    async def serve(request: web.Request) -> web.StreamResponse:
        watch = request[STOPWATCH] = Stopwatch()
        if needs_tenant:
            await resolve_tenant(request, needs_principal)
            watch.mark("tenant")
        if is_command:
            if needs_principal:
                await authenticate(request)
                watch.mark("auth")
            await receive(request, route)
            watch.mark("body")
        if versioned and (known := remembered_answer(request, route)) is not None:
            watch.mark("fresh")
            return known
        if route.gate is None:
            return await endpoint.serve(request, watch)
        # A place a long poll can step out of while it waits (app/edge/admission.py).
        place = request[PLACE] = Place(request.app[ADMISSION].gate(route.gate))
        started = time.perf_counter()
        with span("admission.wait", {"sales.gate": route.gate}):
            waited = await place.take()
        request[QUEUED_S] = time.perf_counter() - started if waited else 0.0
        try:
            watch.mark("queue")
            if needs_principal and not is_command and PRINCIPAL not in request:
                await authenticate(request)
                watch.mark("auth")
                fresh = request.app[FRESHNESS].answer(request, route) if versioned else None
                if fresh is not None:
                    return fresh
            response = await endpoint.serve(request, watch)
            if versioned:
                return request.app[FRESHNESS].finish(request, response)
            if is_command and needs_tenant:
                request.app[FRESHNESS].wrote(request[TENANT].id)
            return response
        finally:
            place.give_back()

    return serve


async def resolve_tenant(request: web.Request, needs_principal: bool) -> None:
    """The tenant the request is for: the one its API key names, else the slug it names."""
    token = bearer_token(request) or ""
    if needs_principal:
        # Refused before it costs any round trip, even a tenant lookup.
        plausible_token(request, token)
    if needs_principal and (found := await key_tenant(request, token)) is not None:
        tenant = found
    else:
        tenant = await named_tenant_of(request)
    request[TENANT] = tenant
    structlog.contextvars.bind_contextvars(tenant=tenant.slug)
    read_tokens(request, tenant.id)  # a Consistency-Token is bound to its tenant


async def authenticate(request: web.Request) -> None:
    """The request's token as its principal: from the worker's cache, else one read under the
    lookup limits (app/edge/auth_limits.py: unknown tokens cannot exhaust the pool); or 401."""
    token = bearer_token(request) or ""
    principal = await auth_limits.authenticate(request, request[TENANT].id, token)
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(principal=principal.subject)


def remembered_answer(request: web.Request, route: Route) -> web.Response | None:
    """A 304 or a 200 from memory before admission, when the worker remembers the caller's
    principal (no round trip) and the versions allow; the principal is kept either way."""
    token = bearer_token(request) or ""
    services = request.app[CONTAINER].services
    principal = services.auth.remembered(request[TENANT].id, token)
    if principal is None:
        return None  # authenticated inside its place, as any read
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(principal=principal.subject)
    return request.app[FRESHNESS].answer(request, route)


async def receive(request: web.Request, route: Route) -> None:
    """A command's body, read whole before it queues; the cookie rule and the login count
    apply before a byte of it is read."""
    site = request.headers.get("Sec-Fetch-Site")
    if route.access is Access.PRINCIPAL and site is not None and site not in _OWN_SITE:
        if from_cookie(request):
            raise CrossSiteRequest()
    if route.throttled:
        request.app[LOGIN_LIMITER].attempt(request.remote)
    if request.can_read_body:
        await hostile_headers.send_continue(request)  # `100 Continue` only to a known caller
        request[RECEIVING] = True
        await request.read()  # aiohttp keeps it for parsing; MAX_BODY_BYTES still applies
        request[RECEIVING] = False
