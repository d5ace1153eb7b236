"""The admin port answers only the `Host` names in ADMIN_ALLOWED_HOSTS (issue 19), so a web
page on another site cannot read `/dashboard.json` through DNS rebinding: 421 otherwise."""

from __future__ import annotations

from collections.abc import Collection

from aiohttp import web
from aiohttp.typedefs import Middleware

from app.edge import problems
from app.edge.types import Handler


def admin_hosts(allowed: Collection[str]) -> Middleware:
    names = frozenset(name.lower() for name in allowed)

    @web.middleware
    async def only_allowed_hosts(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _host_name(request.host) not in names:
            return problems.problem(
                421,
                "misdirected-request",
                "Misdirected request",
                "this port answers only its own host names (ADMIN_ALLOWED_HOSTS)",
                None,
            )
        return await handler(request)

    return only_allowed_hosts


def _host_name(host: str | None) -> str:
    host = (host or "").strip().lower()
    if host.startswith("["):  # [::1]:9090
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
