"""The dashboard's data and the ECS rendering, without a server or a database."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from app.edge.admission import Admission, AdmissionGate
from app.edge.metrics import HttpMetrics
from app.ops.dashboard import snapshot, summarize
from app.runtime.logging import to_ecs
from infrastructure.db.metrics import DbMetrics, ReplicaMetrics


def _service(worker: str = "1") -> tuple[CollectorRegistry, DbMetrics, HttpMetrics]:
    registry = CollectorRegistry()
    db, http = DbMetrics(registry, 7, worker), HttpMetrics(registry, worker)
    db.watch(size=lambda: 3, in_use=lambda: 2, available=lambda: 1, waiting=lambda: 4)
    http.watch(Admission(AdmissionGate(2, 10), AdmissionGate(4, 10)))
    return registry, db, http


def test_the_summary_has_the_pool_gates_requests_and_buckets_of_a_worker() -> None:
    registry, db, http = _service("3")
    http.observe("GET", "/x", 200, 0.004)
    http.observe("GET", "/x", 503, 0.2)
    http.count_problem("overloaded")
    http.count_problem("pool-timeout")
    db.count_round_trip("read")
    db.observe_hold("read", 0.0015)
    summary = summarize(registry.collect())
    assert summary["worker"] == "3"
    assert summary["pool"] == {"max": 7, "size": 3, "in_use": 2, "idle": 1, "waiting": 4}
    assert summary["gates"]["reads"] == {"active": 0, "queued": 0, "limit": 2}
    assert summary["requests"] == {"2xx": 1, "5xx": 1}
    assert (summary["timeouts"], summary["refusals"], summary["round_trips"]) == (1, 1, 1)
    latency = dict((str(le), n) for le, n in summary["buckets"]["latency"])
    assert latency["0.005"] == 1 and latency["+Inf"] == 2
    assert dict((str(le), n) for le, n in summary["buckets"]["hold"])["0.002"] == 1


def test_the_snapshot_sums_the_workers_and_lists_only_live_ones() -> None:
    one, _, _ = _service("1")
    two, _, _ = _service("2")
    dead = CollectorRegistry()  # counters only: its gauges were dropped when it died
    HttpMetrics(dead).observe("GET", "/x", 200, 0.01)
    doc = snapshot(
        [*one.collect(), *two.collect()],
        {11: list(one.collect()), 12: list(two.collect()), 13: list(dead.collect())},
    )
    assert [(w["worker"], w["pid"]) for w in doc["workers"]] == [("1", 11), ("2", 12)]
    assert doc["total"]["worker"] == "all"
    assert doc["total"]["pool"]["max"] == 14


A, B = "standby-a:5432", "standby-b:5432"


def _gauges(rows: dict[str, list[tuple[str, str, float]]]) -> list[Metric]:
    """Replica gauges as MultiProcessCollector merges `liveall` files: (replica, pid, value)."""
    families: list[Metric] = []
    for name, values in rows.items():
        family = GaugeMetricFamily(name, name, labels=["replica", "pid"])
        for replica, pid, value in values:
            family.add_metric([replica, pid], value)
        families.append(family)
    return families


def _counter(name: str, label: str, values: dict[str, float]) -> Metric:
    family = CounterMetricFamily(name, name, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


def _hold(replica: str, buckets: list[tuple[str, float]]) -> Metric:
    family = HistogramMetricFamily("db_replica_connection_hold_seconds", "hold", labels=["replica"])
    family.add_metric([replica], buckets, sum_value=0.0)
    return family


def _two_workers_two_replicas() -> list[Metric]:
    """Replica A: in rotation for worker 11 only, lagging more there. B: up for both."""
    return [
        *_gauges(
            {
                "db_replica_up": [(A, "11", 1), (A, "12", 0), (B, "11", 1), (B, "12", 1)],
                "db_replica_lag_seconds": [(A, "11", 0.2), (A, "12", 1.5), (B, "11", 0)],
                "db_replica_lag_bytes": [(A, "11", 100), (A, "12", 4096), (B, "11", 0)],
                "db_replica_pool_max": [(A, "11", 3), (A, "12", 3), (B, "11", 3), (B, "12", 3)],
                "db_replica_pool_size": [(A, "11", 2), (A, "12", 1)],
                "db_replica_pool_in_use": [(A, "11", 2), (A, "12", 0)],
                "db_replica_pool_available": [(A, "11", 0), (A, "12", 1)],
                "db_replica_pool_waiting": [(A, "11", 5), (A, "12", 0)],
            }
        ),
        _counter("db_replica_reads", "replica", {A: 30, B: 10}),
        _counter("db_replica_pool_timeouts", "replica", {A: 2}),
        _counter("db_replica_round_trips", "replica", {A: 30, B: 10}),
        _counter("db_reads", "target", {"replica": 40, "primary": 10}),
        _counter("db_read_fallbacks", "reason", {"lagging": 4, "error": 1}),
        _hold(A, [("0.001", 20), ("0.005", 29), ("+Inf", 30)]),
    ]


def test_the_replica_summary_sums_pools_over_workers_and_keeps_the_worst_lag() -> None:
    summary = summarize(_two_workers_two_replicas(), summed=True)
    assert list(summary["replicas"]) == [A, B]
    a, b = summary["replicas"][A], summary["replicas"][B]
    assert (a["up"], a["up_workers"], a["workers"]) == (1, 1, 2)
    assert (b["up"], b["up_workers"], b["workers"]) == (1, 2, 2)
    assert (a["lag_seconds"], a["lag_bytes"]) == (1.5, 4096)
    assert a["pool"] == {"max": 6, "size": 3, "in_use": 2, "idle": 1, "waiting": 5}
    assert (a["reads"], a["timeouts"], a["round_trips"], a["errors"]) == (30, 2, 30, 0)
    assert a["buckets"]["hold"] == [[0.001, 20], [0.005, 29], ["+Inf", 30]]
    assert a["buckets"]["acquire_wait"] == []
    assert summary["reads"] == {"replica": 40, "primary": 10}
    assert summary["fallbacks"] == {"lagging": 4, "error": 1}
    assert summary["round_trips"] == 40, "the replicas' round trips count as the requests' too"


def test_a_replica_down_for_every_worker_is_down() -> None:
    down = _gauges({"db_replica_up": [(A, "11", 0), (A, "12", 0)]})
    replica = summarize(down)["replicas"][A]
    assert (replica["up"], replica["up_workers"], replica["workers"]) == (0, 0, 2)


def test_a_replica_only_a_dead_worker_counted_has_no_health() -> None:
    replica = summarize([_counter("db_replica_reads", "replica", {A: 3})])["replicas"][A]
    assert (replica["up"], replica["workers"], replica["lag_seconds"]) == (None, 0, None)
    assert replica["reads"] == 3 and replica["pool"] == {}


def test_without_replicas_the_replica_part_is_empty() -> None:
    registry, _, _ = _service()
    summary = summarize(registry.collect())
    assert (summary["replicas"], summary["reads"], summary["fallbacks"]) == ({}, {}, {})


def test_the_summary_reads_the_replica_metrics_the_service_registers() -> None:
    registry = CollectorRegistry()
    families = ReplicaMetrics(registry)
    pool = families.for_pool(A, 4)
    pool.watch(size=lambda: 2, in_use=lambda: 1, available=lambda: 1, waiting=lambda: 0)
    families.up.labels(A).set(1)
    families.lag_seconds.labels(A).set(0.25)
    families.lag_bytes.labels(A).set(8192)
    families.reads.labels(A).inc(3)
    families.reads_by_target.labels("replica").inc(3)
    families.fallbacks.labels("token_ahead").inc()
    pool.observe_hold("read", 0.003)
    pool.acquire_wait.observe(0.0004)
    pool.count_round_trip("read")
    pool.count_error("57")

    summary = summarize(registry.collect())
    replica = summary["replicas"][A]
    assert (replica["up"], replica["up_workers"], replica["workers"]) == (1, 1, 1)
    assert (replica["lag_seconds"], replica["lag_bytes"]) == (0.25, 8192)
    assert replica["pool"] == {"max": 4, "size": 2, "in_use": 1, "idle": 1, "waiting": 0}
    assert (replica["reads"], replica["round_trips"], replica["errors"]) == (3, 1, 1)
    assert dict((str(le), n) for le, n in replica["buckets"]["hold"])["0.005"] == 1
    assert dict((str(le), n) for le, n in replica["buckets"]["acquire_wait"])["0.0005"] == 1
    assert (summary["reads"], summary["fallbacks"]) == ({"replica": 3}, {"token_ahead": 1})


def test_replica_gauges_are_per_live_worker_under_gunicorn() -> None:
    """`liveall`: a pid label per worker, and gone when the worker dies (mark_process_dead),
    so neither a dead worker's `up` nor its last lag outlives it."""
    families = ReplicaMetrics(CollectorRegistry())
    gauges = [
        families.up,
        families.lag_seconds,
        families.lag_bytes,
        families.pool_max,
        families.pool_size,
        families.pool_in_use,
        families.pool_available,
        families.pool_waiting,
    ]
    assert {gauge._multiprocess_mode for gauge in gauges} == {"liveall"}


def test_the_snapshot_gives_each_worker_its_own_view_of_the_replicas() -> None:
    one, two = CollectorRegistry(), CollectorRegistry()
    for registry, worker, up in ((one, "1", 1), (two, "2", 0)):
        DbMetrics(registry, 7, worker).watch(lambda: 0, lambda: 0, lambda: 0, lambda: 0)
        families = ReplicaMetrics(registry)
        families.for_pool(A, 3).watch(lambda: 1, lambda: 0, lambda: 1, lambda: 0)
        families.up.labels(A).set(up)
    doc = snapshot(
        [*one.collect(), *two.collect()], {11: list(one.collect()), 12: list(two.collect())}
    )
    assert [w["replicas"][A]["up"] for w in doc["workers"]] == [1, 0]
    total = doc["total"]["replicas"][A]
    assert (total["up"], total["up_workers"], total["workers"]) == (1, 1, 2)
    assert total["pool"]["max"] == 6


def test_ecs_renames_our_fields_and_nests_the_rest_under_sales() -> None:
    event = {
        "event": "request",
        "level": "info",
        "timestamp": "2026-11-28T23:00:00.000001Z",
        "method": "GET",
        "status": 404,
        "path": "/api/sales/customers/0b8f0c3e-7b5d-4f44-a0d8-8a3b5b7fd7a1",
        "route": "/api/sales/customers/{id}",
        "duration_ms": 1.5,
        "client": "127.0.0.1",
        "request_id": "abc",
        "problem": "not-found",
    }
    assert to_ecs(None, "info", event) == {
        "ecs.version": "8.11.0",
        "@timestamp": "2026-11-28T23:00:00.000001Z",
        "log.level": "info",
        "message": "request",
        "event": {"action": "request", "duration": 1_500_000},
        "http": {"request": {"method": "GET", "id": "abc"}, "response": {"status_code": 404}},
        "url": {"path": "/api/sales/customers/0b8f0c3e-7b5d-4f44-a0d8-8a3b5b7fd7a1"},
        "client": {"address": "127.0.0.1"},
        "sales": {"route": "/api/sales/customers/{id}", "problem": "not-found"},
    }


def test_ecs_keeps_a_librarys_text_as_the_message_and_its_fixed_name_as_the_action() -> None:
    event = {"event": "gunicorn_log", "message": "Booting worker with pid: 5124", "level": "info"}
    rendered = to_ecs(None, "info", event)
    assert rendered["message"] == "Booting worker with pid: 5124"
    assert rendered["event"] == {"action": "gunicorn_log"}
    assert "sales" not in rendered
