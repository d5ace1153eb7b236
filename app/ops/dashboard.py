"""The live pool dashboard's data: per worker and in total, the gauges as they are now and the
counters and histogram buckets as they stand (cumulative).

The page (dashboard.html) polls this and works out rates and percentiles over the last minute
from the differences between its polls, so any worker can answer: they all read the same
files, and none has to keep history.

With replicas (DATABASE_REPLICA_URLS) each summary also has `replicas`: per replica its health
as the live workers see it (up in how many of them, the worst lag), its pool summed over them,
its counters and histogram buckets; `reads` by target and `fallbacks` by reason. Without
replicas those are empty and the page leaves its replica section out.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from prometheus_client.metrics_core import Metric

from app.ops.families import HISTOGRAMS, REFUSALS

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
    "http_admission_places": "limit",
}

# The replicas' families (infrastructure/db/metrics.py ReplicaMetrics), all by `replica`. The
# gauges are one series per live worker (a `pid` label under gunicorn): the pool's are summed,
# up and lag are kept per worker and reduced in `_replica`.
_REPLICA_POOL = {
    "db_replica_pool_max": "max",
    "db_replica_pool_size": "size",
    "db_replica_pool_in_use": "in_use",
    "db_replica_pool_available": "idle",
    "db_replica_pool_waiting": "waiting",
}
_REPLICA_HEALTH = {
    "db_replica_up": "up",
    "db_replica_lag_seconds": "lag_seconds",
    "db_replica_lag_bytes": "lag_bytes",
    "db_replica_replay_age_seconds": "replay_age_seconds",  # issue 16
}
_REPLICA_COUNTERS = {
    "db_replica_reads_total": "reads",
    "db_replica_pool_timeouts_total": "timeouts",
    "db_replica_round_trips_total": "round_trips",
    "db_replica_errors_total": "errors",
}
_REPLICA_HISTOGRAMS = {
    "db_replica_pool_acquire_wait_seconds": "acquire_wait",
    "db_replica_connection_hold_seconds": "hold",
}


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
        name: defaultdict(float) for name in HISTOGRAMS.values()
    }
    requests: dict[str, float] = defaultdict(float)
    counts = {"timeouts": 0.0, "refusals": 0.0, "round_trips": 0.0}
    replicas: dict[str, _Replica] = defaultdict(_Replica)
    reads: dict[str, float] = defaultdict(float)
    fallbacks: dict[str, float] = defaultdict(float)
    worker: str | None = None
    for metric in metrics:
        for sample in metric.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name.startswith("db_repl") or name.startswith("db_read"):
                if name == "db_reads_total":
                    reads[labels["target"]] += value
                elif name == "db_read_fallbacks_total":
                    fallbacks[labels["reason"]] += value
                elif "replica" in labels:
                    replicas[labels["replica"]].add(name, labels, value)
                    if name == "db_replica_round_trips_total":  # every trip of a request
                        counts["round_trips"] += value
            elif name in _POOL:
                pool[_POOL[name]] += value
                worker = labels.get("worker", worker)
            elif name in _GATES:
                gates[labels["gate"]][_GATES[name]] += value
            elif name.endswith("_bucket") and name[: -len("_bucket")] in HISTOGRAMS:
                kind = HISTOGRAMS[name[: -len("_bucket")]]
                buckets[kind][float(labels["le"])] += value
            elif name == "http_requests_total":
                requests[labels["status"][0] + "xx"] += value
            elif name == "http_problems_total" and labels["type"] == "pool-timeout":
                counts["timeouts"] += value
            elif name == "http_problems_total" and labels["type"] in REFUSALS:
                counts["refusals"] += value
            elif name == "db_round_trips_total":
                counts["round_trips"] += value
    return {
        "worker": "all" if summed else worker,
        "pool": dict(pool),
        "gates": {gate: dict(values) for gate, values in gates.items()},
        "requests": dict(requests),
        "buckets": {kind: _sorted(found) for kind, found in buckets.items()},
        **counts,
        "replicas": {name: replicas[name].summary() for name in sorted(replicas)},
        "reads": dict(reads),
        "fallbacks": dict(fallbacks),
    }


class _Replica:
    """One replica's samples, from one worker or from all of them."""

    def __init__(self) -> None:
        self.health: dict[str, list[float]] = defaultdict(list)  # one value per live worker
        self.pool: dict[str, float] = defaultdict(float)
        self.counts = dict.fromkeys(_REPLICA_COUNTERS.values(), 0.0)
        self.buckets: dict[str, dict[float, float]] = {
            kind: defaultdict(float) for kind in _REPLICA_HISTOGRAMS.values()
        }

    def add(self, name: str, labels: dict[str, str], value: float) -> None:
        if name in _REPLICA_HEALTH:
            self.health[_REPLICA_HEALTH[name]].append(value)
        elif name in _REPLICA_POOL:
            self.pool[_REPLICA_POOL[name]] += value
        elif name in _REPLICA_COUNTERS:
            self.counts[_REPLICA_COUNTERS[name]] += value
        elif name.endswith("_bucket") and name[: -len("_bucket")] in _REPLICA_HISTOGRAMS:
            kind = _REPLICA_HISTOGRAMS[name[: -len("_bucket")]]
            self.buckets[kind][float(labels["le"])] += value

    def summary(self) -> dict[str, Any]:
        """`up` is 1 when some live worker has the replica in rotation, `up_workers` of
        `workers` say how many; the lags are the worst worker's. None when no live worker
        reports the replica (only a dead worker's counters are left)."""
        up = self.health.get("up", [])
        return {
            "up": max(up) if up else None,
            "up_workers": sum(1 for v in up if v >= 1),
            "workers": len(up),
            "lag_seconds": max(self.health["lag_seconds"], default=None),
            "lag_bytes": max(self.health["lag_bytes"], default=None),
            "replay_age_seconds": max(self.health["replay_age_seconds"], default=None),
            "pool": dict(self.pool),
            **self.counts,
            "buckets": {kind: _sorted(found) for kind, found in self.buckets.items()},
        }


def _sorted(buckets: dict[float, float]) -> list[list[Any]]:
    return sorted(([_le(le), n] for le, n in buckets.items()), key=lambda b: _order(b[0]))


def _le(le: float) -> float | str:
    return "+Inf" if le == float("inf") else le


def _order(le: float | str) -> float:
    return float("inf") if le == "+Inf" else float(le)
