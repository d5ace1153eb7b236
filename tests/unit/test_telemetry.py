"""The dashboard's data and the ECS rendering, without a server or a database."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from app.edge.admission import Admission, AdmissionGate
from app.edge.metrics import HttpMetrics
from app.ops.dashboard import snapshot, summarize
from app.runtime.logging import to_ecs
from infrastructure.db.metrics import DbMetrics


def _service(worker: str = "1") -> tuple[CollectorRegistry, DbMetrics, HttpMetrics]:
    registry = CollectorRegistry()
    db, http = DbMetrics(registry, 7, worker), HttpMetrics(registry, worker)
    db.watch(size=lambda: 3, in_use=lambda: 2, available=lambda: 1, waiting=lambda: 4)
    http.watch(Admission(AdmissionGate(2, 10), AdmissionGate(4, 10)))
    return registry, db, http


def test_the_summary_has_the_pool_gates_requests_and_buckets_of_a_worker():
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
    assert summary["gates"]["reads"] == {"active": 0, "queued": 0, "places": 2}
    assert summary["requests"] == {"2xx": 1, "5xx": 1}
    assert (summary["timeouts"], summary["refusals"], summary["round_trips"]) == (1, 1, 1)
    latency = dict((str(le), n) for le, n in summary["buckets"]["latency"])
    assert latency["0.005"] == 1 and latency["+Inf"] == 2
    assert dict((str(le), n) for le, n in summary["buckets"]["hold"])["0.002"] == 1


def test_the_snapshot_sums_the_workers_and_lists_only_live_ones():
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


def test_ecs_renames_our_fields_and_nests_the_rest_under_sales():
    event = {
        "event": "request",
        "level": "info",
        "timestamp": "2026-11-28T23:00:00.000001Z",
        "method": "GET",
        "status": 404,
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
        "url": {"path": "/api/sales/customers/{id}"},
        "client": {"address": "127.0.0.1"},
        "sales": {"problem": "not-found"},
    }
