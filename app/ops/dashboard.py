"""The live pool dashboard's data: per worker and in total, the gauges as they are now and the
counters and histogram buckets as they stand (cumulative).

The page (dashboard.html) polls this and works out rates and percentiles over the last minute
from the differences between its polls, so any worker can answer: they all read the same
files, and none has to keep history.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from prometheus_client.metrics_core import Metric

_POOL = {
    "db_pool_max": "max",
    "db_pool_size": "size",
    "db_pool_in_use": "in_use",
    "db_pool_available": "idle",
    "db_pool_waiting": "waiting",
}
_GATES = {
    "http_requests_active": "active",
    "http_requests_queued": "queued",
    "http_admission_places": "places",
}
_HISTOGRAMS = {
    "http_request_duration_seconds": "latency",
    "db_pool_acquire_wait_seconds": "acquire_wait",
    "db_connection_hold_seconds": "hold",
}
# Problem types that are refusals: the service said no at once instead of queueing more.
_REFUSALS = frozenset({"pool-saturated", "overloaded"})


def snapshot(total: Iterable[Metric], workers: dict[int, list[Metric]]) -> dict[str, Any]:
    """The JSON document /dashboard.json answers."""
    live = []
    for pid, metrics in workers.items():
        summary = summarize(metrics)
        if summary["worker"] is not None:  # a dead worker has counters but no gauges left
            live.append({"pid": pid, **summary})
    live.sort(key=lambda w: int(w["worker"]) if w["worker"].isdigit() else 0)
    return {"time": time.time(), "total": summarize(total, summed=True), "workers": live}


def summarize(metrics: Iterable[Metric], summed: bool = False) -> dict[str, Any]:
    pool: dict[str, float] = defaultdict(float)
    gates: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    buckets: dict[str, dict[float, float]] = {
        name: defaultdict(float) for name in _HISTOGRAMS.values()
    }
    requests: dict[str, float] = defaultdict(float)
    counts = {"timeouts": 0.0, "refusals": 0.0, "round_trips": 0.0}
    worker: str | None = None
    for metric in metrics:
        for sample in metric.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name in _POOL:
                pool[_POOL[name]] += value
                worker = labels.get("worker", worker)
            elif name in _GATES:
                gates[labels["gate"]][_GATES[name]] += value
            elif name.endswith("_bucket") and name[: -len("_bucket")] in _HISTOGRAMS:
                kind = _HISTOGRAMS[name[: -len("_bucket")]]
                buckets[kind][float(labels["le"])] += value
            elif name == "http_requests_total":
                requests[labels["status"][0] + "xx"] += value
            elif name == "http_problems_total" and labels["type"] == "pool-timeout":
                counts["timeouts"] += value
            elif name == "http_problems_total" and labels["type"] in _REFUSALS:
                counts["refusals"] += value
            elif name == "db_round_trips_total":
                counts["round_trips"] += value
    return {
        "worker": "all" if summed else worker,
        "pool": dict(pool),
        "gates": {gate: dict(values) for gate, values in gates.items()},
        "requests": dict(requests),
        "buckets": {
            kind: sorted(([_le(le), n] for le, n in found.items()), key=lambda b: _order(b[0]))
            for kind, found in buckets.items()
        },
        **counts,
    }


def _le(le: float) -> float | str:
    return "+Inf" if le == float("inf") else le


def _order(le: float | str) -> float:
    return float("inf") if le == "+Inf" else float(le)
