"""Read-your-writes at the edge: the Consistency-Token in, the Consistency-Token out.

Installed only when replicas are configured (app/runtime/web_app.py). A read brings the token
of the client's last command back, in the `Consistency-Token` header or, automatically for
cookie clients, in the `sales-consistency` cookie; the read then sees that command's writes
wherever it runs (infrastructure/db/replicas/routing.py). A command's reads all run on the primary,
and a successful command answers with a fresh token in both places, bound to its tenant.
Only reads of tenant data look at a token: elsewhere it is ignored and logged. A stale token,
one from an old secret or another tenant's is ignored too (as if absent, logged); a header
that is no token at all is a 400 on those reads, a bad cookie is ignored.

The middleware opens the request's consistency context and, once the command committed,
issues the token for the request's tenant; the pipeline reads the client's token as soon as
the tenant is known (`read_tokens`, in its tenant stage: tokens are bound to a tenant), and
before any authentication lookup, which is a read too.
"""

from __future__ import annotations

import math
from uuid import UUID

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from app.edge.keys import CONFIG, CONTAINER, ROUTE, TENANT
from app.edge.rules import Access, Route
from app.edge.types import Handler
from infrastructure.db.replicas.consistency import (
    ConsistencyTokens,
    InvalidConsistencyToken,
    ReadConsistency,
    UnusableConsistencyToken,
    current_consistency,
)

log = structlog.get_logger("app.consistency")

CONSISTENCY_TOKEN = "Consistency-Token"
CONSISTENCY_COOKIE = "sales-consistency"


def consistency(tokens: ConsistencyTokens) -> Middleware:
    cookie_age = math.ceil(tokens.horizon) + 1  # past the horizon a token is moot

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.get(ROUTE)
        ctx = ReadConsistency(primary_only=route is not None and route.changes_state)
        if CONSISTENCY_TOKEN in request.headers and not _reads_tenant_data(route):
            # Health, the API document, login, commands: nothing here reads from a replica,
            # so no token can matter, nor be refused (issue 19).
            log.info("consistency_token_ignored", reason="route")
        current_consistency.set(ctx)
        response = await handler(request)
        tenant = request.get(TENANT)
        if ctx.committed_lsn is not None and response.status < 400 and tenant is not None:
            token = tokens.issue(ctx.committed_lsn, tenant.id)
            response.headers[CONSISTENCY_TOKEN] = token
            response.set_cookie(
                CONSISTENCY_COOKIE,
                token,
                max_age=cookie_age,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=request.app[CONFIG].cookie_secure,
            )
        return response

    return middleware


def read_tokens(request: web.Request, tenant_id: UUID) -> None:
    """The pipeline's tenant stage: what the client's token asks of this read, now that the
    tenant it must be bound to is known. Nothing without replicas (no context is open)."""
    ctx = current_consistency.get()
    replicas = request.app[CONTAINER].replicas
    if ctx is None or replicas is None or not _reads_tenant_data(request.get(ROUTE)):
        return
    ctx.after_lsn = _read_after(request, replicas.tokens, tenant_id)


def _reads_tenant_data(route: Route | None) -> bool:
    return route is not None and not route.changes_state and route.access is Access.PRINCIPAL


def _read_after(request: web.Request, tokens: ConsistencyTokens, tenant_id: UUID) -> int | None:
    """The later of the header's and the cookie's positions, if either still matters."""
    header = request.headers.get(CONSISTENCY_TOKEN)
    after = _usable(tokens, header.strip(), tenant_id) if header is not None else None
    cookie = request.cookies.get(CONSISTENCY_COOKIE)
    if cookie:
        try:
            from_cookie = _usable(tokens, cookie, tenant_id)
        except InvalidConsistencyToken:
            from_cookie = None  # it only ever holds what we set
        if from_cookie is not None and (after is None or from_cookie > after):
            after = from_cookie
    return after


def _usable(tokens: ConsistencyTokens, token: str, tenant_id: UUID) -> int | None:
    """The token's position, or None for one that asks for nothing (logged); a malformed
    token raises InvalidConsistencyToken (400)."""
    try:
        return tokens.read_after(token, tenant_id)
    except UnusableConsistencyToken as exc:
        # Stale tokens are every client's normal case a moment after its last command.
        (log.debug if exc.reason == "stale" else log.info)(
            "consistency_token_ignored", reason=exc.reason
        )
        return None
