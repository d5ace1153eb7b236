"""HTTP metrics: requests by route and status, their duration, problems by type, and the
admission gates (per worker, label `worker`, and summed over the live workers as
`service_http_*`; see infrastructure/db/metrics.py)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from app.edge.admission import Admission, AdmissionGate
from app.edge.keys import HTTP_METRICS, PROBLEM_TYPE, QUEUED_S
from app.edge.routing import route_template
from app.edge.types import Handler
from infrastructure.db.stats import current_stats

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def _route_costs(registry: CollectorRegistry) -> tuple[Any, ...]:
    """Where each route's time went, for the dashboard's routes table (issue 21). The route
    label is the route table's template, so the series are a fixed set."""
    by_route = ["method", "route"]
    return (
        Counter(
            "http_route_db_hold_seconds",
            "Seconds requests held pool connections",
            by_route,
            registry=registry,
        ),
        Counter(
            "http_route_pool_wait_seconds",
            "Seconds requests waited for a pool connection",
            by_route,
            registry=registry,
        ),
        Counter(
            "http_route_queue_seconds",
            "Seconds requests waited at their admission gate",
            by_route,
            registry=registry,
        ),
    )


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry, worker: str = "1") -> None:
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
        self.problems = Counter(
            "http_problems",
            "Problem responses by type (the slug of the problem document's type)",
            ["type"],
            registry=registry,
        )
        per_worker: dict[str, Any] = {
            "labelnames": ["worker", "gate"],
            "registry": registry,
            "multiprocess_mode": "livemostrecent",
        }
        summed: dict[str, Any] = {
            "labelnames": ["gate"],
            "registry": registry,
            "multiprocess_mode": "livesum",
        }
        self._worker = worker
        self._gauges = (
            Gauge("http_requests_active", "Requests admitted past a gate", **per_worker),
            Gauge("http_requests_queued", "Requests queued for admission", **per_worker),
            Gauge("http_admission_places", "Requests a gate admits at once", **per_worker),
        )
        self._totals = (
            Gauge("service_http_requests_active", "Summed over the live workers", **summed),
            Gauge("service_http_requests_queued", "Summed over the live workers", **summed),
            Gauge("service_http_admission_places", "Summed over the live workers", **summed),
        )
        self._costs = _route_costs(registry)
        self._costed: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._gates: tuple[tuple[str, AdmissionGate], ...] = ()
        # Children looked up once per label set: labels() costs more than the update itself.
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def watch(self, admission: Admission) -> None:
        self._gates = (("reads", admission.reads), ("commands", admission.commands))
        self.sample()

    def sample(self) -> None:
        """Copy the gates' state into the gauges (a few times a second and before a scrape)."""
        for name, gate in self._gates:
            for gauge, total, value in zip(
                self._gauges, self._totals, (gate.active, gate.queued, gate.limit), strict=True
            ):
                gauge.labels(self._worker, name).set(value)
                total.labels(name).set(value)

    def count_problem(self, slug: str) -> None:
        self.problems.labels(slug).inc()

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

    def observe_costs(self, method: str, route: str, *seconds: float) -> None:
        """Hold, pool wait and admission queue seconds of one request of a gated route."""
        children = self._costed.get((method, route))
        if children is None:
            children = self._costed[method, route] = tuple(
                family.labels(method, route) for family in self._costs
            )
        for child, value in zip(children, seconds, strict=True):
            if value > 0:
                child.inc(value)


@web.middleware
async def measure(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    metrics = request.app[HTTP_METRICS]
    route = route_template(request) or "unmatched"
    metrics.observe(request.method, route, response.status, time.perf_counter() - started)
    queued = request.get(QUEUED_S)
    stats = current_stats.get()
    if queued is not None and stats is not None:  # a gated, database-backed route
        metrics.observe_costs(request.method, route, stats.hold_s, stats.wait_s, queued)
    slug = response.get(PROBLEM_TYPE)
    if slug is not None:
        metrics.count_problem(slug)
    return response
