"""Prometheus collectors for the pool and for commands, named as PostgREST names its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_FAST = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class DbMetrics:
    def __init__(self, registry: CollectorRegistry, pool_max: int) -> None:
        self.pool_max = Gauge("db_pool_max", "Configured pool size", registry=registry)
        self.pool_max.set(pool_max)
        self.pool_size = Gauge("db_pool_size", "Open connections", registry=registry)
        self.pool_in_use = Gauge("db_pool_in_use", "Connections checked out", registry=registry)
        self.pool_available = Gauge("db_pool_available", "Idle connections", registry=registry)
        self.pool_waiting = Gauge(
            "db_pool_waiting", "Requests queued for a connection", registry=registry
        )
        self.pool_timeouts = Counter(
            "db_pool_timeouts",
            "Acquires that hit the timeout or the waiter bound",
            registry=registry,
        )
        self.acquire_wait = Histogram(
            "db_pool_acquire_wait_seconds",
            "Wait for a connection",
            buckets=_FAST,
            registry=registry,
        )
        self.hold = Histogram(
            "db_connection_hold_seconds",
            "Time a connection was checked out",
            ["kind"],
            buckets=_FAST,
            registry=registry,
        )
        self.round_trips = Counter(
            "db_round_trips", "Statements sent to the database", ["kind"], registry=registry
        )
        self.errors = Counter(
            "db_errors", "Database errors by SQLSTATE class", ["sqlstate_class"], registry=registry
        )
        self.commits = Counter("uow_commits", "Units of work committed", registry=registry)
        self.rollbacks = Counter("uow_rollbacks", "Units of work rolled back", registry=registry)
        self.retries = Counter(
            "uow_retries",
            "Commands retried after a transient failure",
            ["sqlstate"],
            registry=registry,
        )
