"""One sample of the whole service for the dashboard's history (app/ops/history.py).

Each sample reads the service's metrics once (every worker's, app/ops/telemetry.py) and turns
them into plain numbers: the gauges as they are (pool per worker and in total, admission
queues, replica lag and each replica's pools summed over the workers), rates over the time since the previous sample (requests by status
class, pool timeouts, refusals, round trips per request), percentiles over the last few
samples (latency, acquire wait, hold; one second of requests is too few for a p99). The
reading also has each route's running totals, from which the routes table takes differences
(app/ops/recorder.py keeps them apart).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.metrics_core import Metric

from app.ops.families import HISTOGRAMS, REFUSALS

_POOL = {
    "db_pool_max": "max",
    "db_pool_in_use": "in_use",
    "db_pool_available": "idle",
    "db_pool_waiting": "waiting",
    "db_pool_oldest_waiter_seconds": "oldest_wait",
}
_BUCKETS = {f"{family}_bucket": kind for family, kind in HISTOGRAMS.items()}
_ROUTE_COSTS = {
    "http_route_db_hold_seconds_total": "hold",
    "http_route_pool_wait_seconds_total": "wait",
    "http_route_queue_seconds_total": "queue",
}
_REPLICA_POOL = {
    "db_replica_pool_in_use": "in_use",
    "db_replica_pool_waiting": "waiting",
    "db_replica_pool_max": "max",
}
_CLASSES = ("2xx", "3xx", "4xx", "5xx")
ROUTE_PREFIX = "route|"  # names of a route's running totals: route|GET /x|hold


@dataclass
class Reading:
    """The service's metrics at one moment, reduced to what the dashboard draws."""

    workers: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    queued: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    buckets: dict[str, dict[float, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    routes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    lag: dict[str, float] = field(default_factory=dict)
    replica_pools: dict[str, dict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )


def read(metrics: Iterable[Metric]) -> Reading:
    r = Reading()
    for metric in metrics:
        for s in metric.samples:
            name, labels, value = s.name, s.labels, s.value
            if name in _POOL:
                r.workers[labels.get("worker", "1")][_POOL[name]] = value
            elif name == "http_requests_queued":
                r.queued[labels["gate"]] += value
            elif name in _BUCKETS:
                r.buckets[_BUCKETS[name]][float(labels["le"])] += value
            elif name == "http_requests_total":
                status = labels["status"][0] + "xx"
                r.counts[status] += value
                route = f"{ROUTE_PREFIX}{labels['method']} {labels['route']}|"
                r.routes[route + "requests"] += value
                if status in ("4xx", "5xx"):
                    r.routes[route + status] += value
            elif name in _ROUTE_COSTS:
                route = f"{ROUTE_PREFIX}{labels['method']} {labels['route']}|"
                r.routes[route + _ROUTE_COSTS[name]] += value
            elif name in ("db_round_trips_total", "db_replica_round_trips_total"):
                r.counts["round_trips"] += value
            elif name == "http_problems_total" and labels["type"] == "pool-timeout":
                r.counts["timeouts"] += value
            elif name == "http_problems_total" and labels["type"] in REFUSALS:
                r.counts["refusals"] += value
            elif name == "db_replica_lag_seconds":  # one per live worker: the worst
                r.lag[labels["replica"]] = max(value, r.lag.get(labels["replica"], 0.0))
            elif name in _REPLICA_POOL:  # one per live worker: summed
                r.replica_pools[labels["replica"]][_REPLICA_POOL[name]] += value
    return r


class Sampler:
    """Turns successive readings into history rows; `trailing` readings make a percentile."""

    def __init__(self, trailing: int = 5) -> None:
        self._readings: deque[tuple[float, Reading]] = deque(maxlen=trailing + 1)

    def row(self, time: float, reading: Reading) -> dict[str, float | None]:
        previous = self._readings[-1] if self._readings else None
        oldest = self._readings[0] if self._readings else None
        self._readings.append((time, reading))
        row = _pool(reading)
        for gate in ("reads", "commands"):
            row[f"queue.{gate}"] = reading.queued.get(gate, 0.0)
        for name, lag in reading.lag.items():
            row[f"replica.{name}.lag"] = lag
        for name, pool in reading.replica_pools.items():
            for key, value in pool.items():
                row[f"replica.{name}.{key}"] = value
        if previous is not None and time > previous[0]:
            row.update(_rates(reading, previous[1], time - previous[0]))
        if oldest is not None:
            for kind in ("latency", "acquire_wait", "hold"):
                found = _delta_buckets(reading.buckets[kind], oldest[1].buckets[kind])
                row[f"{kind}.p99"] = quantile(0.99, found)
                if kind == "latency":
                    row["latency.p50"] = quantile(0.5, found)
        return row


def _pool(reading: Reading) -> dict[str, float | None]:
    row: dict[str, float | None] = {}
    totals: dict[str, float] = defaultdict(float)
    busiest, oldest = 0.0, 0.0
    for worker, pool in reading.workers.items():
        for key, value in pool.items():
            row[f"worker.{worker}.{key}"] = value
            totals[key] += value
        if pool.get("max"):
            busiest = max(busiest, pool.get("in_use", 0.0) / pool["max"])
        oldest = max(oldest, pool.get("oldest_wait", 0.0))
    for key in ("in_use", "idle", "waiting", "max"):
        row[f"pool.{key}"] = totals.get(key, 0.0)
    row["pool.oldest_wait"] = oldest
    row["pool.busiest_share"] = busiest
    return row


def _rates(now: Reading, then: Reading, seconds: float) -> dict[str, float | None]:
    def grown(key: str) -> float:
        a, b = now.counts.get(key, 0.0), then.counts.get(key, 0.0)
        return a - b if a >= b else a  # fewer than before: counted afresh

    row: dict[str, float | None] = {f"rps.{c}": grown(c) / seconds for c in _CLASSES}
    requests = sum(grown(c) for c in _CLASSES)
    row["round_trips"] = grown("round_trips") / requests if requests else None
    row["timeouts"] = grown("timeouts") / seconds
    row["refusals"] = grown("refusals") / seconds
    return row


def _delta_buckets(now: dict[float, float], then: dict[float, float]) -> list[tuple[float, float]]:
    found = sorted((le, n - then.get(le, 0.0)) for le, n in now.items())
    if any(n < 0 for _, n in found):
        return sorted(now.items())
    return found


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """The q-quantile of cumulative buckets [(le, count)], interpolated within a bucket as
    Prometheus's histogram_quantile does; None without observations."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if math.isinf(le):
                return lower
            share = 0.0 if count == below else (rank - below) / (count - below)
            return lower + (le - lower) * share
        lower, below = le, count
    return lower
