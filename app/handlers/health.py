"""Liveness (no database) and readiness (the pool can run `select 1` within a second)."""

from __future__ import annotations

from aiohttp import web

from app.http import json_response
from app.keys import DATABASE


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if await request.app[DATABASE].ping(within=1.0):
        return json_response({"status": "ready"})
    return web.Response(
        status=503,
        body=b'{"status":"unavailable"}',
        content_type="application/json",
        headers={"Retry-After": "1"},
    )
