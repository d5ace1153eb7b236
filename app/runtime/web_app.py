"""The aiohttp application: the bootstrap's container behind the route table and middlewares."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

from aiohttp import web

from app.api.openapi import build_openapi
from app.api.routes import ROUTES, ROUTES_BY_NAME
from app.edge import identity, middlewares
from app.edge.admission import Admission, AdmissionGate, admission
from app.edge.consistency import consistency
from app.edge.endpoint import endpoint
from app.edge.keys import (
    ADMISSION,
    CONFIG,
    CONTAINER,
    HTTP_METRICS,
    LOGIN_LIMITER,
    OPENAPI_DOC,
    ROUTE_TABLE,
)
from app.edge.metrics import HttpMetrics, measure
from app.edge.ratelimit import LoginLimiter, TokenBuckets
from app.runtime.bootstrap import Container, bootstrap
from app.runtime.config import Config, for_workers


async def create_app(config: Config, container: Container | None = None) -> web.Application:
    config = for_workers(config, 1)  # a no-op when the worker count already set it
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
            identity.tenant,  # refuses token-less requests before they queue
            admission,
            identity.authenticate,
        ],
    )
    app[CONFIG] = config
    app[CONTAINER] = container
    app[ROUTE_TABLE] = ROUTES_BY_NAME
    assert config.max_active_reads is not None
    app[ADMISSION] = Admission(
        reads=AdmissionGate(config.max_active_reads, config.max_queued_requests),
        commands=AdmissionGate(config.max_active_commands, config.max_queued_requests),
    )
    app[HTTP_METRICS] = HttpMetrics(container.registry)
    app[HTTP_METRICS].watch(app[ADMISSION])
    app[LOGIN_LIMITER] = LoginLimiter(
        TokenBuckets(config.login_per_email_per_minute, config.login_burst),
        TokenBuckets(config.login_per_address_per_minute, config.login_burst * 3),
    )
    app[OPENAPI_DOC] = build_openapi(ROUTES)
    for route in ROUTES:
        app.router.add_route(route.method, route.router_path, endpoint(route), name=route.name)

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await container.start()
        # Everything built so far lives as long as the process: move it out of the garbage
        # collector's sight, so full collections under load only walk per-request garbage.
        gc.freeze()
        yield
        await container.close()

    app.cleanup_ctx.append(lifecycle)
    return app
