"""The aiohttp application: the bootstrap's container behind the route table and middlewares."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import socket
from collections.abc import AsyncIterator, Callable

import structlog
from aiohttp import web

from app.api.openapi import build_openapi
from app.api.routes import ROUTES, ROUTES_BY_NAME
from app.edge import auth_limits, hostile_headers, middlewares, parser_errors
from app.edge.admin_hosts import admin_hosts
from app.edge.admission import Admission, AdmissionGate
from app.edge.consistency import consistency
from app.edge.freshness import Freshness
from app.edge.keys import (
    ADMISSION,
    AUTH_LIMITS,
    CONFIG,
    CONTAINER,
    FRESHNESS,
    HTTP_METRICS,
    IN_FLIGHT,
    LOGIN_LIMITER,
    OPENAPI_DOC,
    ROUTE_TABLE,
    UNKNOWN_TENANT_LIMITER,
)
from app.edge.metrics import HttpMetrics, measure
from app.edge.middlewares import InFlight
from app.edge.pipeline import pipeline
from app.edge.ratelimit import LoginLimiter, TokenBuckets
from app.edge.response_cache import ResponseCache, ResponseCacheMetrics
from app.ops.admin import create_admin_app
from app.ops.telemetry import ServiceCollector, version
from app.runtime.bootstrap import Container, bootstrap
from app.runtime.config import Config, for_workers
from infrastructure import tracing

log = structlog.get_logger("app.runtime")
_Context = Callable[[web.Application], AsyncIterator[None]]

# How often a worker copies its pool and gate state into the gauges other workers' scrapes
# read (app/ops/telemetry.py): the dashboard polls twice a second.
SAMPLE_EVERY = 0.25


async def create_app(
    config: Config, container: Container | None = None, admin: socket.socket | None = None
) -> web.Application:
    """The API app; with `admin` (a listening socket), it also serves the admin app there
    for as long as it runs."""
    if config.max_active_reads is None:
        config = for_workers(config, 1)
    container = container or bootstrap(config)
    # Only with replicas: without them, no token is read or issued, and reads cost what
    # they always did.
    read_your_writes = (
        [] if container.replicas is None else [consistency(container.replicas.tokens)]
    )
    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[
            middlewares.request_context,  # outermost: request id, route, the request event
            measure,
            middlewares.errors,
            *read_your_writes,  # before any read: the authentication lookup is one
        ],  # then each route's stages, in its pipeline (app/edge/pipeline.py)
    )
    app[CONFIG] = config
    app[CONTAINER] = container
    app[ROUTE_TABLE] = ROUTES_BY_NAME
    assert config.max_active_reads is not None
    app[ADMISSION] = Admission(
        reads=AdmissionGate(config.max_active_reads, config.max_queued_requests),
        commands=AdmissionGate(config.max_active_commands, config.max_queued_requests),
    )
    app[HTTP_METRICS] = HttpMetrics(container.registry, worker=str(config.worker))
    app[IN_FLIGHT] = InFlight()
    app[HTTP_METRICS].watch(app[ADMISSION])
    app[LOGIN_LIMITER] = LoginLimiter(
        TokenBuckets(config.login_per_address_per_minute, config.login_burst * 3),
    )
    app[UNKNOWN_TENANT_LIMITER] = TokenBuckets(
        config.unknown_tenants_per_minute,
        config.unknown_tenants_burst,
        what="lookups of unknown tenants",
    )
    app[AUTH_LIMITS] = auth_limits.build(config, container.registry)  # issue 19
    parser_errors.install(app, container.registry)  # issue 19: parser rejections, Server
    app[OPENAPI_DOC] = build_openapi(ROUTES)
    app[FRESHNESS] = freshness(config, container)
    for route in ROUTES:
        resource = app.router.add_resource(route.router_path, name=route.name)
        handler = pipeline(route)
        expect = hostile_headers.deferred_expect  # 100 Continue once the caller is known
        resource.add_route(route.method, handler, expect_handler=expect)
        if route.method == "GET":
            resource.add_route("HEAD", handler, expect_handler=expect)  # uptime checkers
    app.on_response_prepare.append(_server_header)

    app.cleanup_ctx.append(_lifecycle)
    app.cleanup_ctx.append(_admin_site(admin))
    app.cleanup_ctx.append(_sampling)
    app.on_shutdown.append(_stopping)
    return app


def freshness(config: Config, container: Container) -> Freshness:
    """ETags from the container's version book, and the response cache (issue 22)."""
    cache = ResponseCache(int(config.response_cache_mb * 1024 * 1024))
    metrics = ResponseCacheMetrics(cache, container.registry)
    return Freshness(container.versions, cache, config.dashboard_cache_ttl, metrics)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    config, container = app[CONFIG], app[CONTAINER]
    if config.tracing_endpoint:  # here, in the worker: the exporter's thread must be its own
        tracing.start_tracing(config.otel_service_name, version())
    await container.start()
    # Everything built so far lives as long as the process: move it out of the garbage
    # collector's sight, so full collections under load only walk per-request garbage.
    gc.freeze()
    log.info(
        "worker_started",
        worker=config.worker,
        workers=config.workers,
        pid=os.getpid(),
        pool_max=config.db_pool_max,
        read_places=config.max_active_reads,
        command_places=config.max_active_commands,
    )
    yield
    in_flight = app[IN_FLIGHT]
    log.info(
        "worker_stopped",
        worker=config.worker,
        pid=os.getpid(),
        requests_drained=max(0, in_flight.at_stop - in_flight.cancelled),
        requests_cancelled=in_flight.cancelled,
        requests_served=in_flight.served,
    )
    await container.close()
    tracing.stop_tracing()


async def _stopping(app: web.Application) -> None:
    """aiohttp calls this once it stopped accepting, before it waits for the requests in
    flight (up to SHUTDOWN_TIMEOUT): those are the requests drained."""
    in_flight = app[IN_FLIGHT]
    in_flight.at_stop = in_flight.now
    if (waker := app[CONTAINER].feed_waker) is not None:
        waker.close()  # long polls of the change feed answer now, not after their wait
    log.info("worker_stopping", worker=app[CONFIG].worker, requests_in_flight=in_flight.now)


def _admin_site(sock: socket.socket | None) -> _Context:
    async def admin_site(app: web.Application) -> AsyncIterator[None]:
        if sock is None:
            yield
            return
        runner = web.AppRunner(admin_app(app), access_log=None, shutdown_timeout=1)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        yield
        await runner.cleanup()

    return admin_site


def admin_app(app: web.Application) -> web.Application:
    """The admin port's app (app/ops/admin.py) for this API app's process."""
    collector = ServiceCollector(
        app[CONTAINER].registry, app[CONFIG].metrics_dir, functools.partial(_sample, app)
    )
    admin = create_admin_app(collector, app[CONTAINER].db, app[CONFIG])
    parser_errors.install_admin(admin, app)  # no versions in its Server header (issue 19)
    admin.middlewares.append(admin_hosts(app[CONFIG].allowed_admin_hosts))
    return admin


async def _sampling(app: web.Application) -> AsyncIterator[None]:
    async def sample_forever() -> None:
        while True:
            _sample(app)
            await asyncio.sleep(SAMPLE_EVERY)

    task = asyncio.create_task(sample_forever())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _sample(app: web.Application) -> None:
    container = app[CONTAINER]
    container.db.metrics.sample()
    if container.replicas is not None:
        for replica in container.replicas.monitor.replicas:
            replica.db.metrics.sample()
    app[HTTP_METRICS].sample()
    app[FRESHNESS].sample()


async def _server_header(_: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = "sales-api"  # no framework or Python versions to fingerprint
