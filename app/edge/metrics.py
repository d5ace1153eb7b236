"""HTTP metrics: requests by route and status, their duration, and the admission gates."""

from __future__ import annotations

import functools
import time
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from app.edge.admission import Admission, AdmissionGate
from app.edge.keys import HTTP_METRICS
from app.edge.routing import route_template
from app.edge.types import Handler

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
            self.active.labels(name).set_function(functools.partial(_active, gate))
            self.queued.labels(name).set_function(functools.partial(_queued, gate))
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


def _active(gate: AdmissionGate) -> float:
    return gate.active


def _queued(gate: AdmissionGate) -> float:
    return gate.queued


@web.middleware
async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    request.app[HTTP_METRICS].observe(
        request.method,
        route_template(request) or "unmatched",
        response.status,
        time.perf_counter() - started,
    )
    return response
