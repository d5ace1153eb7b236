"""Receiving a command's body: from a known caller, outside any admission place, in time.

A command's caller is authenticated before a byte of its body is read (a bad token with a
2 MiB body is a 401, not a 413), and the body is read before the command queues for a place,
so a client that stalls mid-body holds nothing. A body that is still arriving when the request
deadline passes is the client's problem: 408, not a 503 that reads as database trouble.

Reads have no body: they are still authenticated inside their admission place (identity.py).
"""

from __future__ import annotations

from aiohttp import web

from app.edge.identity import authenticate_request, from_cookie
from app.edge.keys import LOGIN_LIMITER, RECEIVING, ROUTE
from app.edge.rules import Access
from app.edge.types import Handler


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


@web.middleware
async def receive(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request[ROUTE]
    if route is None or not route.changes_state:
        return await handler(request)
    if route.access is Access.PRINCIPAL:
        await authenticate_request(request)
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in _OWN_SITE and from_cookie(request):
            raise CrossSiteRequest()
    if route.throttled:
        request.app[LOGIN_LIMITER].attempt(request.remote)
    if request.can_read_body:
        request[RECEIVING] = True
        await request.read()  # aiohttp keeps it for the handler; MAX_BODY_BYTES still applies
        request[RECEIVING] = False
    return await handler(request)
