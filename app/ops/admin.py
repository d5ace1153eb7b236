"""The admin port (ADMIN_HOST:ADMIN_PORT): /metrics, /livez, /readyz and the dashboard, apart
from the API so operators can firewall it.

Every worker serves it on the one socket the process manager opened, and each answer is the
whole service's (app/ops/telemetry.py), whichever worker the kernel hands the connection to.
The dashboard (docs/operations.md, "The admin dashboard") is the page, its charting library
(uPlot, vendored in app/ops/vendor/uplot with its licence), /dashboard.json (now, the history
since `since`, thresholds crossed, the routes table over `window` seconds) and
/dashboard/postgres.json (pg_stat_activity, app/ops/postgres_panel.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from importlib import resources
from urllib.parse import urlsplit

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.ops.by_route import top_routes
from app.ops.dashboard import snapshot
from app.ops.postgres_panel import PostgresPanel
from app.ops.recorder import Recorder
from app.ops.saturation import findings
from app.ops.telemetry import ServiceCollector, scrape_registry
from app.ops.thresholds import for_page
from app.runtime.config import Config
from infrastructure.db.activity import ActivityMonitor
from infrastructure.db.database import Database

COLLECTOR: web.AppKey[ServiceCollector] = web.AppKey("service_collector")
DATABASE: web.AppKey[Database] = web.AppKey("database")
PAGE: web.AppKey[bytes] = web.AppKey("dashboard_page")
ADMIN_CONFIG: web.AppKey[Config] = web.AppKey("admin_config")
RECORDER: web.AppKey[Recorder] = web.AppKey("dashboard_recorder")
POSTGRES: web.AppKey[PostgresPanel] = web.AppKey("postgres_panel")
ASSETS: web.AppKey[dict[str, tuple[bytes, str]]] = web.AppKey("dashboard_assets")

_NO_STORE = {"Cache-Control": "no-store"}
_VENDOR = {"uPlot.iife.min.js": "application/javascript", "uPlot.min.css": "text/css"}


def create_admin_app(collector: ServiceCollector, db: Database, config: Config) -> web.Application:
    app = web.Application()
    app[COLLECTOR] = collector
    app[DATABASE] = db
    app[ADMIN_CONFIG] = config
    ops = resources.files("app.ops")
    app[PAGE] = ops.joinpath("dashboard.html").read_bytes()
    app[ASSETS] = {
        name: (ops.joinpath("vendor", "uplot", name).read_bytes(), kind)
        for name, kind in _VENDOR.items()
    }
    app[RECORDER] = Recorder(
        collector.collect,
        config.dashboard_sample_seconds,
        config.dashboard_history_seconds,
        lambda: snapshot(collector.collect(), collector.per_worker()),
    )
    monitor = None
    if config.monitor_database_url:
        monitor = ActivityMonitor(config.monitor_database_url, service_roles(config))
    app[POSTGRES] = PostgresPanel(monitor)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/dashboard", dashboard)
    app.router.add_get("/dashboard.json", dashboard_data)
    app.router.add_get("/dashboard/postgres.json", postgres_data)
    app.router.add_get("/dashboard/{asset}", asset)
    app.cleanup_ctx.append(_recording)
    return app


def service_roles(config: Config) -> tuple[str, ...]:
    """The roles whose sessions the PostgreSQL panel shows: the app's and the owner's."""
    urls = (config.database_url, config.migration_database_url, *config.database_replica_urls)
    names = {urlsplit(url).username for url in urls} | {config.app_db_role}
    return tuple(sorted(name for name in names if name))


async def _recording(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[RECORDER].run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await app[POSTGRES].close()


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


async def asset(request: web.Request) -> web.Response:
    found = request.app[ASSETS].get(request.match_info["asset"])
    if found is None:
        raise web.HTTPNotFound()
    body, kind = found
    return web.Response(body=body, content_type=kind, headers={"Cache-Control": "max-age=3600"})


async def dashboard_data(request: web.Request) -> web.Response:
    """Now (every worker and the total), the history after `since` (seconds since the epoch;
    0 or absent: all of it, and the snapshot of up to a minute ago), the thresholds and which
    are crossed, and the routes table over the last `window` seconds (default 300)."""
    try:
        since = _number(request.query.get("since"), 0.0)
        window = _number(request.query.get("window"), 300.0)
    except ValueError as exc:
        return _json({"error": str(exc)}, status=400)
    collector, recorder = request.app[COLLECTOR], request.app[RECORDER]
    config = request.app[ADMIN_CONFIG]
    history = recorder.history
    data = snapshot(collector.collect(), collector.per_worker())
    data["history"] = {
        "period_s": recorder.period,
        "capacity": history.capacity,
        "samples": len(history),
        "taken": history.taken,
        **history.since(since),
    }
    data["thresholds"] = for_page(config.request_timeout)
    data["saturation"] = findings(history, recorder.period, config.request_timeout)
    data["routes"] = top_routes(recorder.routes, recorder.route_totals, data["time"], window)
    if since == 0:  # a page opening: a baseline for its last-minute table
        data["minute_ago"] = recorder.minute_ago(data["time"])
    return _json(data, headers=_NO_STORE)


async def postgres_data(request: web.Request) -> web.Response:
    return _json(await request.app[POSTGRES].view(), headers=_NO_STORE)


def _number(raw: str | None, default: float) -> float:
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"not a number: {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"must be a non-negative number: {raw!r}")
    return value


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(data),  # NaN (a gap in a series) becomes null
        content_type="application/json",
        headers=headers,
    )
