"""Read-your-writes at the edge: the Consistency-Token in, the Consistency-Token out.

Installed only when replicas are configured (app/runtime/web_app.py). A read brings the token
of the client's last command back, in the `Consistency-Token` header or, automatically for
cookie clients, in the `sales-consistency` cookie; the read then sees that command's writes
wherever it runs (infrastructure/db/replicas.py). A command's reads all run on the primary,
and a successful command answers with a fresh token in both places. A header this service
did not issue is a 400; a bad cookie is ignored (it only ever holds what we set).
"""

from __future__ import annotations

import math

from aiohttp import web
from aiohttp.typedefs import Middleware

from app.edge.keys import CONFIG, ROUTE
from app.edge.types import Handler
from infrastructure.db.consistency import (
    ConsistencyTokens,
    InvalidConsistencyToken,
    ReadConsistency,
    current_consistency,
)

CONSISTENCY_TOKEN = "Consistency-Token"
CONSISTENCY_COOKIE = "sales-consistency"


def consistency(tokens: ConsistencyTokens) -> Middleware:
    cookie_age = math.ceil(tokens.horizon) + 1  # past the horizon a token is moot

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.get(ROUTE)
        ctx = ReadConsistency(primary_only=route is not None and route.changes_state)
        after = _read_after(request, tokens)
        if not ctx.primary_only:
            ctx.after_lsn = after
        current_consistency.set(ctx)
        response = await handler(request)
        if ctx.committed_lsn is not None and response.status < 400:
            token = tokens.issue(ctx.committed_lsn)
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


def _read_after(request: web.Request, tokens: ConsistencyTokens) -> int | None:
    """The later of the header's and the cookie's positions, if either still matters."""
    header = request.headers.get(CONSISTENCY_TOKEN)
    after = tokens.read_after(header.strip()) if header is not None else None
    cookie = request.cookies.get(CONSISTENCY_COOKIE)
    if cookie:
        try:
            from_cookie = tokens.read_after(cookie)
        except InvalidConsistencyToken:
            from_cookie = None
        if from_cookie is not None and (after is None or from_cookie > after):
            after = from_cookie
    return after
