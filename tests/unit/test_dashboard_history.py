"""The admin dashboard's history, saturation cues and routes table, without a server."""

from __future__ import annotations

import math
import time
from typing import cast

import pytest
from prometheus_client import CollectorRegistry

from app.edge.admission import Admission, AdmissionGate
from app.edge.metrics import HttpMetrics
from app.ops.by_route import top_routes
from app.ops.history import History
from app.ops.postgres_panel import last_statement, summarize
from app.ops.recorder import Recorder
from app.ops.sampler import Sampler, quantile, read
from app.ops.saturation import findings
from app.ops.thresholds import for_page
from infrastructure.db.metrics import DbMetrics, ReplicaMetrics


def test_a_history_keeps_only_its_capacity_of_the_newest_samples() -> None:
    history = History(capacity=5)
    for t in range(12):
        history.append(float(t), {"pool.in_use": float(t)})
    assert len(history) == 5
    assert history.since(0.0) == {
        "t": [7.0, 8.0, 9.0, 10.0, 11.0],
        "series": {"pool.in_use": [7.0, 8.0, 9.0, 10.0, 11.0]},
    }
    assert history.since(9.0)["t"] == [10.0, 11.0]


def test_a_series_first_seen_late_is_empty_before_and_a_missing_value_is_a_gap() -> None:
    history = History(capacity=4)
    history.append(1.0, {"a": 1.0})
    history.append(2.0, {"a": 2.0, "b": 5.0})
    history.append(3.0, {"b": None})
    found = cast(dict[str, list[float]], history.since(0.0)["series"])
    assert found["a"][:2] == [1.0, 2.0] and math.isnan(found["a"][2])
    assert math.isnan(found["b"][0]) and found["b"][1] == 5.0 and math.isnan(found["b"][2])


def test_the_oldest_sample_of_a_window_is_found_by_its_time() -> None:
    history = History(capacity=10)
    for t in range(10, 20):
        history.append(float(t), {})
    assert history.first_at_or_after(15.0) == 4  # 15 is four samples before the newest (19)
    assert history.first_at_or_after(0.0) == 9
    assert history.first_at_or_after(25.0) is None


def _service() -> tuple[CollectorRegistry, DbMetrics, HttpMetrics, list[float]]:
    registry = CollectorRegistry()
    db, http = DbMetrics(registry, 4, "1"), HttpMetrics(registry, "1")
    pool = [1.0, 0.0]  # in use, waiting
    db.watch(
        size=lambda: 4,
        in_use=lambda: pool[0],
        available=lambda: 4 - pool[0],
        waiting=lambda: pool[1],
        oldest_waiter=lambda: 2.5 if pool[1] else 0.0,
    )
    http.watch(Admission(AdmissionGate(2, 10), AdmissionGate(4, 10)))
    return registry, db, http, pool


def test_a_sample_has_the_pool_now_and_rates_since_the_previous_sample() -> None:
    registry, db, http, pool = _service()
    sampler = Sampler()
    sampler.row(100.0, read(registry.collect()))
    for _ in range(10):
        http.observe("GET", "/x", 200, 0.004)
        db.count_round_trip("read")
    http.observe("GET", "/x", 503, 0.2)
    pool[:] = [3.0, 2.0]
    db.sample()
    row = sampler.row(102.0, read(registry.collect()))
    assert row["rps.2xx"] == 5.0 and row["rps.5xx"] == 0.5
    assert row["round_trips"] == 10 / 11
    assert row["worker.1.in_use"] == 3.0 and row["pool.max"] == 4.0
    assert row["pool.waiting"] == 2.0 and row["pool.oldest_wait"] == 2.5
    assert row["pool.busiest_share"] == 0.75
    assert row["latency.p99"] is not None and 0.1 < row["latency.p99"] <= 0.25


def test_a_quantile_interpolates_within_its_bucket_and_is_none_without_observations() -> None:
    assert quantile(0.5, [(0.1, 0.0), (0.2, 10.0), (math.inf, 10.0)]) == pytest.approx(0.15)
    assert quantile(0.99, [(0.1, 0.0), (math.inf, 0.0)]) is None


def _history(rows: list[dict[str, float]]) -> History:
    history = History(capacity=100)
    for t, row in enumerate(rows):
        history.append(float(t), row)
    return history


def test_a_pool_at_80_percent_of_its_max_is_saturated_and_79_is_not() -> None:
    busy = {"worker.1.in_use": 8.0, "worker.1.max": 10.0, "worker.2.in_use": 7.0}
    found = findings(_history([{**busy, "worker.2.max": 10.0}]), 1.0, 15.0)
    assert [(f["key"], f["series"]) for f in found] == [("pool_busy", "worker.1.in_use")]


def test_waiters_count_only_once_they_have_waited_five_seconds() -> None:
    waiting = [{"pool.waiting": 1.0}] * 5
    assert findings(_history(waiting), 1.0, 15.0) == []
    assert [f["key"] for f in findings(_history(waiting * 2), 1.0, 15.0)] == ["pool_waiting"]
    gap = [*waiting, {"pool.waiting": 0.0}, *waiting]
    assert findings(_history(gap), 1.0, 15.0) == []


def test_an_old_waiter_and_a_p99_past_half_the_deadline_are_saturation() -> None:
    found = findings(_history([{"pool.oldest_wait": 1.5, "latency.p99": 8.0}]), 1.0, 15.0)
    assert [f["key"] for f in found] == ["oldest_waiter", "latency_p99"]
    assert findings(_history([{"latency.p99": 8.0}]), 1.0, 20.0) == []


def test_the_page_gets_the_latency_threshold_in_seconds_of_the_configured_deadline() -> None:
    assert for_page(request_timeout=10.0)["latency_p99"]["seconds"] == 5.0


def test_the_routes_table_ranks_routes_by_what_they_cost_within_the_window() -> None:
    def totals(orders_hold: float, list_hold: float, list_queue: float) -> dict[str, float]:
        return {
            "route|POST /orders|requests": orders_hold * 10,
            "route|POST /orders|hold": orders_hold,
            "route|POST /orders|5xx": 1.0,
            "route|GET /list|requests": list_hold * 10,
            "route|GET /list|hold": list_hold,
            "route|GET /list|queue": list_queue,
        }

    starts = History(capacity=10)
    starts.append(0.0, totals(100.0, 0.0, 0.0))  # outside the window: long ago
    starts.append(50.0, totals(100.0, 1.0, 0.5))
    table = top_routes(starts, totals(101.0, 4.0, 2.5), now=60.0, window_s=15.0)
    assert table["from"] == 50.0
    assert [r["route"] for r in table["by_hold"]] == ["GET /list", "POST /orders"]
    assert table["by_hold"][0]["hold"] == 3.0 and table["by_hold"][1]["hold"] == 1.0
    assert table["by_hold"][1]["5xx"] == 0.0  # the error was before the window
    assert [(r["route"], r["queue"]) for r in table["by_wait"]] == [("GET /list", 2.0)]


def test_a_window_shorter_than_the_route_samples_starts_at_the_newest_one() -> None:
    starts = History(capacity=10)
    starts.append(50.0, {"route|GET /list|requests": 4.0, "route|GET /list|hold": 1.0})
    latest = {"route|GET /list|requests": 6.0, "route|GET /list|hold": 1.5}
    [row] = top_routes(starts, latest, now=60.0, window_s=5.0)["by_hold"]
    assert (row["requests"], row["hold"]) == (2.0, 0.5)
    assert (
        top_routes(History(capacity=3), latest, now=60.0, window_s=5.0)["by_hold"][0]["requests"]
        == 6.0
    )


def _session(pid: int, state: str, **more: object) -> dict[str, object]:
    base = {"pid": pid, "role": "sales_app", "state": state, "wait_event_type": None}
    return {
        **base,
        "wait_event": None,
        "state_age": 1.0,
        "xact_age": None,
        "query_age": 1.0,
        "query": "select 1",
        "blocked_by": None,
        **more,
    }


def test_the_postgres_panel_names_the_longest_idle_transaction_and_who_blocks_whom() -> None:
    sessions = [
        _session(10, "idle in transaction", state_age=12.0, xact_age=13.0, query="LOCK t"),
        _session(11, "active", query_age=9.0, wait_event_type="Lock", blocked_by=[10]),
        _session(12, "idle in transaction", state_age=2.0),
        _session(13, "idle"),
    ]
    panel = summarize(sessions)
    assert panel["states"] == {"idle in transaction": 2, "active": 1, "idle": 1}
    assert panel["longest_idle_in_transaction"]["pid"] == 10
    assert panel["longest_idle_in_transaction"]["age_s"] == 12.0
    assert panel["longest_active"]["pid"] == 11
    [blocked] = panel["blocked"]
    assert (blocked["pid"], blocked["waiting_s"]) == (11, 9.0)
    assert [(b["pid"], b["query"]) for b in blocked["blocked_by"]] == [(10, "LOCK t")]


def test_the_panel_shows_the_statement_after_the_services_prelude_shortened() -> None:
    query = "select set_config('x', '1', true); set local transaction_read_only = on; select 2"
    assert last_statement(query) == "select 2"
    assert last_statement("select " + "x" * 300, chars=20) == "select xxxxxxxxxxxx…"
    assert last_statement(None) is None


def test_the_recorder_keeps_route_totals_every_tenth_sample_and_the_newest_apart() -> None:
    registry, _, http, _ = _service()
    recorder = Recorder(registry.collect, period=1.0, keep_seconds=30)
    for _ in range(25):
        http.observe("GET", "/x", 200, 0.01)
        recorder.take()
    assert (len(recorder.history), recorder.history.capacity) == (25, 30)
    assert len(recorder.routes) == 3  # the 1st, 11th and 21st samples
    assert recorder.routes.latest("route|GET /x|requests") == 21
    assert recorder.route_totals["route|GET /x|requests"] == 25
    assert not any(name.startswith("route|") for name in recorder.history.names())


def test_the_recorder_offers_its_snapshot_of_up_to_a_minute_ago() -> None:
    registry, _, _, _ = _service()
    taken: list[float] = []

    def snapshot() -> dict[str, float]:
        taken.append(time.time())
        return {"time": taken[-1]}

    recorder = Recorder(registry.collect, period=1.0, keep_seconds=30, snapshot=snapshot)
    assert recorder.minute_ago(time.time()) is None
    recorder.take()
    recorder.take()  # within 10 s of the first: no second snapshot
    assert len(taken) == 1
    assert recorder.minute_ago(taken[0] + 30) == {"time": taken[0]}
    assert recorder.minute_ago(taken[0] + 61) is None


def test_a_sample_sums_each_replicas_pool_over_the_workers_and_keeps_the_worst_lag() -> None:
    registry = CollectorRegistry()
    families = ReplicaMetrics(registry)
    families.for_pool("db2:5432", 3).watch(lambda: 2, lambda: 2, lambda: 0, lambda: 1)
    families.lag_seconds.labels("db2:5432").set(0.4)
    row = Sampler().row(1.0, read(registry.collect()))
    assert row["replica.db2:5432.in_use"] == 2 and row["replica.db2:5432.max"] == 3
    assert row["replica.db2:5432.waiting"] == 1 and row["replica.db2:5432.lag"] == 0.4
