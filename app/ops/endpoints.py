"""The API port's operational endpoints: liveness (no database), readiness (the pool can run
`select 1` within a second) and the OpenAPI document, all without a tenant. Metrics and the
dashboard are on the admin port (app/ops/admin.py)."""

from __future__ import annotations

from aiohttp import web

from app.edge.call import Plain
from app.edge.json_io import json_response
from app.edge.keys import CONTAINER, OPENAPI_DOC


async def healthz(call: Plain) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(call: Plain) -> web.Response:
    if await call.request.app[CONTAINER].db.ping(within=1.0):
        return json_response({"status": "ready"})
    return web.Response(
        status=503,
        body=b'{"status":"unavailable"}',
        content_type="application/json",
        headers={"Retry-After": "1"},
    )


async def openapi(call: Plain) -> web.Response:
    return web.Response(body=call.request.app[OPENAPI_DOC], content_type="application/json")
