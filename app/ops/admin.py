"""The admin port (ADMIN_HOST:ADMIN_PORT): /metrics, /livez, /readyz and the live pool
dashboard, apart from the API so operators can firewall it.

Every worker serves it on the one socket the process manager opened, and each answer is the
whole service's (app/ops/telemetry.py), whichever worker the kernel hands the connection to.
"""

from __future__ import annotations

from importlib import resources

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.ops.dashboard import snapshot
from app.ops.telemetry import ServiceCollector, scrape_registry
from infrastructure.db.database import Database

COLLECTOR: web.AppKey[ServiceCollector] = web.AppKey("service_collector")
DATABASE: web.AppKey[Database] = web.AppKey("database")
PAGE: web.AppKey[bytes] = web.AppKey("dashboard_page")

_NO_STORE = {"Cache-Control": "no-store"}


def create_admin_app(collector: ServiceCollector, db: Database) -> web.Application:
    app = web.Application()
    app[COLLECTOR] = collector
    app[DATABASE] = db
    app[PAGE] = resources.files("app.ops").joinpath("dashboard.html").read_bytes()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/dashboard", dashboard)
    app.router.add_get("/dashboard.json", dashboard_data)
    return app


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(scrape_registry(request.app[COLLECTOR]))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def livez(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    db = request.app[DATABASE]
    if await db.ping(within=1.0):
        return _json({"status": "ready"})
    # Why (issue 16): e.g. "127.0.0.1:5432: connection refused; 127.0.0.1:5433: a standby".
    why = db.unavailable_because or "the database did not answer within 1 s"
    return _json({"status": "unavailable", "why": why}, status=503, headers={"Retry-After": "1"})


async def dashboard(request: web.Request) -> web.Response:
    return web.Response(body=request.app[PAGE], content_type="text/html", headers=_NO_STORE)


async def dashboard_data(request: web.Request) -> web.Response:
    collector = request.app[COLLECTOR]
    data = snapshot(collector.collect(), collector.per_worker())
    return _json(data, headers=_NO_STORE)


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps(data), content_type="application/json", headers=headers
    )
