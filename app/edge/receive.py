"""Receiving a command's body: from a known caller, outside any admission place, in time.

A command's caller is authenticated before a byte of its body is read (a bad token with a
2 MiB body is a 401, not a 413), and the body is read before the command queues for a place,
so a client that stalls mid-body holds nothing. A body that is still arriving when the request
deadline passes is the client's problem: 408, not a 503 that reads as database trouble.

Reads have no body: they are still authenticated inside their admission place (identity.py).
"""

from __future__ import annotations

from aiohttp import web

from app.edge import hostile_headers
from app.edge.identity import authenticate_request, from_cookie
from app.edge.json_io import UnsupportedMediaType
from app.edge.keys import LOGIN_LIMITER, RECEIVING, ROUTE
from app.edge.rules import Access
from app.edge.types import Handler


class BodyTimeout(Exception):
    """The client did not finish sending its body within the request deadline (408)."""

    detail = "the request body did not arrive within the deadline"


@web.middleware
async def receive(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request[ROUTE]
    if route is None or not route.changes_state:
        return await handler(request)
    if route.access is Access.PRINCIPAL:
        await authenticate_request(request)
        if from_cookie(request) and request.content_type != "application/json":
            # A browser sends a cross-site form as form or text content, never as JSON
            # without a CORS preflight: requiring JSON is what makes the cookie safe here.
            raise UnsupportedMediaType(
                "a command authenticated by the session cookie must be sent as application/json"
            )
    if route.throttled:
        request.app[LOGIN_LIMITER].attempt(request.remote)
    if request.can_read_body:
        await hostile_headers.send_continue(request)  # issue 19: only to a known caller
        request[RECEIVING] = True
        await request.read()  # aiohttp keeps it for the handler; MAX_BODY_BYTES still applies
        request[RECEIVING] = False
    return await handler(request)
