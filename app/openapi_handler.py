"""GET /openapi.json: the document built once at start-up (see app.openapi)."""

from __future__ import annotations

from aiohttp import web

from app.keys import OPENAPI_DOC


async def openapi_endpoint(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI_DOC], content_type="application/json")
