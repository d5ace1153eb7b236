"""Prometheus collectors for the pool and for commands, named as PostgREST names its own.

The pool gauges carry a `worker` label, and `service_db_pool_*` sums them over the live
workers: with several worker processes (prometheus-client multiprocess mode) each worker
writes its own series and a scrape reads them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# One series per live worker, and the service's sum of them (multiprocess modes; a plain
# gauge when the process runs alone).
_MINE: Final = "livemostrecent"
_TOTAL: Final = "livesum"
# One series per live worker, told apart by a `pid` label (gauges without a `worker` one).
_EACH = "liveall"
_FAST = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class PoolSampling:
    """A pool's gauges, copied from the pool by `sample()` (a few times a second and before a
    scrape) from the sources `watch` was given, the pool max first; not set on every checkout,
    which sits on every request's path."""

    def __init__(self, pool_max: int) -> None:
        self._pool_max_value = float(pool_max)
        self._sources: tuple[Callable[[], float], ...] = ()

    def watch(
        self,
        size: Callable[[], float],
        in_use: Callable[[], float],
        available: Callable[[], float],
        waiting: Callable[[], float],
    ) -> None:
        self._sources = (lambda: self._pool_max_value, size, in_use, available, waiting)
        self.sample()

    def sample(self) -> None:
        raise NotImplementedError


def _pool_gauges(registry: CollectorRegistry, worker: str) -> tuple[tuple[Any, ...], ...]:
    """The primary pool's gauges: this worker's (children, by `worker`) and the live sums."""
    per_worker: dict[str, Any] = {
        "labelnames": ["worker"],
        "registry": registry,
        "multiprocess_mode": _MINE,
    }
    summed: dict[str, Any] = {"registry": registry, "multiprocess_mode": _TOTAL}
    mine = tuple(
        gauge.labels(worker)
        for gauge in (
            Gauge("db_pool_max", "Configured pool size", **per_worker),
            Gauge("db_pool_size", "Open connections", **per_worker),
            Gauge("db_pool_in_use", "Connections checked out", **per_worker),
            Gauge("db_pool_available", "Idle connections", **per_worker),
            Gauge("db_pool_waiting", "Requests queued for a connection", **per_worker),
        )
    )
    sum_of = "summed over the live workers"
    totals = (
        Gauge("service_db_pool_max", f"db_pool_max {sum_of}", **summed),
        Gauge("service_db_pool_size", f"db_pool_size {sum_of}", **summed),
        Gauge("service_db_pool_in_use", f"db_pool_in_use {sum_of}", **summed),
        Gauge("service_db_pool_available", f"db_pool_available {sum_of}", **summed),
        Gauge("service_db_pool_waiting", f"db_pool_waiting {sum_of}", **summed),
    )
    return mine, totals


class DbMetrics(PoolSampling):
    """The primary's pool and commands. The per-kind children are looked up once: they sit on
    every request's path."""

    def __init__(self, registry: CollectorRegistry, pool_max: int, worker: str = "1") -> None:
        super().__init__(pool_max)
        self._mine, self._totals = _pool_gauges(registry, worker)
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
        # Issue 18: the change feed's events, counted as their transaction stores them.
        self.events_written = Counter(
            "events_written", "Change feed events written, by type", ["type"], registry=registry
        )
        self._hold_by_kind: dict[str, Any] = {}
        self._trips_by_kind: dict[str, Any] = {}
        # Issue 21: how long the longest-waiting checkout has waited (the admin dashboard's
        # and SalesApiPoolOldestWaiter's figure).
        self._oldest_waiter = Gauge(
            "db_pool_oldest_waiter_seconds",
            "How long the longest-waiting acquire has waited (0: none waits)",
            labelnames=["worker"],
            registry=registry,
            multiprocess_mode=_MINE,
        ).labels(worker)
        self._oldest: Callable[[], float] = lambda: 0.0

    def watch(
        self,
        size: Callable[[], float],
        in_use: Callable[[], float],
        available: Callable[[], float],
        waiting: Callable[[], float],
        oldest_waiter: Callable[[], float] | None = None,
    ) -> None:
        if oldest_waiter is not None:
            self._oldest = oldest_waiter
        super().watch(size, in_use, available, waiting)

    def sample(self) -> None:
        for gauge, total, read in zip(self._mine, self._totals, self._sources, strict=True):
            value = read()
            gauge.set(value)
            total.set(value)
        self._oldest_waiter.set(self._oldest())

    def observe_hold(self, kind: str, seconds: float) -> None:
        child = self._hold_by_kind.get(kind)
        if child is None:
            child = self._hold_by_kind[kind] = self.hold.labels(kind)
        child.observe(seconds)

    def count_round_trip(self, kind: str) -> None:
        child = self._trips_by_kind.get(kind)
        if child is None:
            child = self._trips_by_kind[kind] = self.round_trips.labels(kind)
        child.inc()

    def count_error(self, sqlstate_class: str) -> None:
        self.errors.labels(sqlstate_class).inc()

    def event_written(self, event_type: str) -> None:
        self.events_written.labels(event_type).inc()


class ReplicaMetrics:
    """The replicas' families, registered once: health and reads per replica (`replica` label:
    host:port), reads by target and fallbacks by reason, and each replica's pool accounting
    under the `db_replica_*` names of the primary's `db_pool_*` ones.

    Every worker watches the replicas and keeps its own pools, so under gunicorn each gauge is
    one series per live worker (multiprocess mode `liveall`: a `pid` label, dropped when the
    worker dies, so a dead worker's last lag or up does not linger). Readers aggregate the pid
    away: max for up and lag (the alerts, the Grafana panels; min for up is the worst
    worker's view), sum for the pool gauges (the live dashboard)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        by_replica = ["replica"]
        per_worker: dict[str, Any] = {"registry": registry, "multiprocess_mode": _EACH}
        self.up = Gauge(
            "db_replica_up",
            "1 while the replica is in the read rotation",
            by_replica,
            **per_worker,
        )
        self.lag_seconds = Gauge(
            "db_replica_lag_seconds",
            "How long ago the primary was where the replica is now",
            by_replica,
            **per_worker,
        )
        self.replay_age = Gauge(
            "db_replica_replay_age_seconds",
            "How long ago the last transaction the replica replayed committed (its own"
            " staleness: what counts while the primary cannot be polled)",
            by_replica,
            **per_worker,
        )
        self.lag_bytes = Gauge(
            "db_replica_lag_bytes",
            "WAL bytes the replica has yet to replay",
            by_replica,
            **per_worker,
        )
        self.reads = Counter(
            "db_replica_reads", "Reads a replica served", by_replica, registry=registry
        )
        self.reads_by_target = Counter(
            "db_reads", "Routed reads by where they ran", ["target"], registry=registry
        )
        self.fallbacks = Counter(
            "db_read_fallbacks",
            "Reads that ran on the primary instead of a replica, by reason",
            ["reason"],
            registry=registry,
        )
        self._pool_families(registry)

    def _pool_families(self, registry: CollectorRegistry) -> None:
        """Each replica's pool, under the `db_replica_*` names of the primary's `db_pool_*`."""
        by_replica = ["replica"]
        per_worker: dict[str, Any] = {"registry": registry, "multiprocess_mode": _EACH}
        self.pool_max = Gauge(
            "db_replica_pool_max", "Configured pool size", by_replica, **per_worker
        )
        self.pool_size = Gauge("db_replica_pool_size", "Open connections", by_replica, **per_worker)
        self.pool_in_use = Gauge(
            "db_replica_pool_in_use", "Connections checked out", by_replica, **per_worker
        )
        self.pool_available = Gauge(
            "db_replica_pool_available", "Idle connections", by_replica, **per_worker
        )
        self.pool_waiting = Gauge(
            "db_replica_pool_waiting",
            "Requests queued for a connection",
            by_replica,
            **per_worker,
        )
        self.pool_timeouts = Counter(
            "db_replica_pool_timeouts",
            "Acquires that hit the timeout or the waiter bound",
            ["replica"],
            registry=registry,
        )
        self.acquire_wait = Histogram(
            "db_replica_pool_acquire_wait_seconds",
            "Wait for a connection",
            by_replica,
            buckets=_FAST,
            registry=registry,
        )
        self.hold = Histogram(
            "db_replica_connection_hold_seconds",
            "Time a connection was checked out",
            by_replica,
            buckets=_FAST,
            registry=registry,
        )
        self.round_trips = Counter(
            "db_replica_round_trips", "Statements sent", by_replica, registry=registry
        )
        self.errors = Counter(
            "db_replica_errors",
            "Errors by SQLSTATE class",
            ["replica", "sqlstate_class"],
            registry=registry,
        )

    def for_pool(self, replica: str, pool_max: int) -> ReplicaPoolMetrics:
        return ReplicaPoolMetrics(self, replica, pool_max)


class ReplicaPoolMetrics(DbMetrics):
    """One replica's pool, accounted as `Database` accounts the primary's, into the shared
    `db_replica_*` families. A replica never commits: a UnitOfWork on one would fail loudly
    (it has no commit counters)."""

    def __init__(self, families: ReplicaMetrics, replica: str, pool_max: int) -> None:
        # PoolSampling's, not DbMetrics': the families exist once, in ReplicaMetrics.
        super(DbMetrics, self).__init__(pool_max)
        self._families = families
        self._replica = replica
        self.pool_max = families.pool_max.labels(replica)
        self.pool_size = families.pool_size.labels(replica)
        self.pool_in_use = families.pool_in_use.labels(replica)
        self.pool_available = families.pool_available.labels(replica)
        self.pool_waiting = families.pool_waiting.labels(replica)
        self.pool_timeouts = families.pool_timeouts.labels(replica)
        self.acquire_wait = families.acquire_wait.labels(replica)
        self._hold = families.hold.labels(replica)
        self._trips = families.round_trips.labels(replica)

    def sample(self) -> None:
        """The inherited `watch` gave the sources, the pool max first, as for the primary."""
        gauges = (
            self.pool_max,
            self.pool_size,
            self.pool_in_use,
            self.pool_available,
            self.pool_waiting,
        )
        for gauge, read in zip(gauges, self._sources, strict=True):
            gauge.set(read())

    def observe_hold(self, kind: str, seconds: float) -> None:
        self._hold.observe(seconds)

    def count_round_trip(self, kind: str) -> None:
        self._trips.inc()

    def count_error(self, sqlstate_class: str) -> None:
        self._families.errors.labels(self._replica, sqlstate_class).inc()
