"""Which row of the route table a request matched, looked up once per request."""

from __future__ import annotations

from aiohttp import web

from app.edge.keys import ROUTE, ROUTE_TABLE
from app.edge.rules import Route


def resolve_route(request: web.Request) -> Route | None:
    """The matched route's row; None for a request no route matched (404, 405)."""
    route = request.app[ROUTE_TABLE].get(request.match_info.route.name or "")
    request[ROUTE] = route
    return route


def route_template(request: web.Request) -> str | None:
    """The route's path template, never the raw path (ids would explode labels and logs)."""
    route = request.get(ROUTE)
    return route.path if route is not None else None
