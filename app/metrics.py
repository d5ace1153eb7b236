"""HTTP metrics and the /metrics endpoint (Prometheus text format, no database involved)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from app.keys import DATABASE, HTTP_METRICS, METRICS_REGISTRY

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=registry,
        )


def route_label(request: web.Request) -> str:
    """The route template, never the raw path: ids would explode the label set."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    metrics = request.app[HTTP_METRICS]
    route = route_label(request)
    metrics.requests.labels(request.method, route, str(response.status)).inc()
    metrics.duration.labels(request.method, route).observe(time.perf_counter() - started)
    return response


async def metrics_endpoint(request: web.Request) -> web.Response:
    request.app[DATABASE].publish_gauges()
    body = generate_latest(request.app[METRICS_REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
