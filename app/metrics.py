"""HTTP metrics and the /metrics endpoint (Prometheus text format, no database involved)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from app.admission import Admission
from app.keys import HTTP_METRICS, METRICS_REGISTRY

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
        self.active = Gauge(
            "http_requests_active", "Requests admitted past a gate", ["gate"], registry=registry
        )
        self.queued = Gauge(
            "http_requests_queued", "Requests queued for admission", ["gate"], registry=registry
        )
        self.places = Gauge(
            "http_admission_places", "Requests a gate admits at once", ["gate"], registry=registry
        )
        # Children looked up once per label set: labels() costs more than the update itself.
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def watch(self, admission: Admission) -> None:
        for name, gate in (("reads", admission.reads), ("commands", admission.commands)):
            self.active.labels(name).set_function(lambda gate=gate: gate.active)
            self.queued.labels(name).set_function(lambda gate=gate: gate.queued)
            self.places.labels(name).set(gate.limit)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        counted = self._counted.get((method, route, status))
        if counted is None:
            counted = self._counted[method, route, status] = self.requests.labels(
                method, route, str(status)
            )
        counted.inc()
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._timed[method, route] = self.duration.labels(method, route)
        timed.observe(seconds)


def route_label(request: web.Request) -> str:
    """The route template, never the raw path: ids would explode the label set."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    request.app[HTTP_METRICS].observe(
        request.method, route_label(request), response.status, time.perf_counter() - started
    )
    return response


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS_REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
