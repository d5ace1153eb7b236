"""One benchmark run: warm up, then load for the duration while /metrics and CPU are sampled."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import feed, wrk
from benchlib import promscrape as prom
from benchlib.dashboard_page import PagePoller
from benchlib.dataset import BenchTenant
from benchlib.options import Options
from benchlib.procstat import CpuMeter, CpuSources
from benchlib.service import Service


@dataclass(frozen=True, slots=True)
class Target:
    service: Service
    data: Path  # the Lua data file with tokens and ids
    cpu: CpuSources  # the service, PostgreSQL, PgBouncer
    options: Options
    env: dict[str, str]  # the service's environment (the `feed` deliverer runs with it)
    tenants: list[BenchTenant]
    log_dir: Path


def run_scenario(target: Target, scenario: str, connections: int) -> dict[str, Any]:
    if scenario == "feed":
        return _feed(target, connections)
    o = target.options
    reads = wrk.Load("read" if scenario == "login-storm" else scenario, connections)
    if o.warmup:
        wrk.run([reads], target.service.base_url, o.warmup, o.timeout, target.data)
    if scenario != "login-storm" and o.dashboard_page:
        return _with_and_without_page(target, reads)
    if scenario != "login-storm":
        record, _ = _measure(target, [reads])
        return record
    # The same reads twice: alone, then beside continuous logins (argon2 + a session insert).
    baseline, _ = _measure(target, [reads])
    storm, (logins,) = _measure(target, [reads, wrk.Load("login", o.storm_connections, 1)])
    storm["baseline"] = baseline
    storm["logins"] = {
        "connections": o.storm_connections,
        "per_s": round(logins.ok_per_second, 1),
        "latency_ms": _rounded(logins.latency_ms),
        "non_2xx": logins.non_2xx,
        "timeouts": logins.errors["timeout"],
    }
    return storm


def _with_and_without_page(target: Target, reads: wrk.Load) -> dict[str, Any]:
    """The same load twice: alone, then with a dashboard page open (the admin port's cost is
    the service's CPU difference; a benchmark on a quiet machine, never a test)."""
    without, _ = _measure(target, [reads])
    with PagePoller(target.service.admin_url) as page:
        record, _ = _measure(target, [reads])
    record["dashboard_page"] = {
        **page.summary(),
        "without_page": {
            "requests_per_s": without["requests_per_s"],
            "cpu_percent": without["cpu_percent"],
        },
    }
    return record


def _feed(target: Target, connections: int) -> dict[str, Any]:
    """`mixed`, with an endpoint per tenant on a local receiver and a deliverer running."""
    o, service = target.options, target.service
    load = wrk.Load("mixed", connections)
    with feed.Receiver() as receiver, feed.delivering(target.env, target.log_dir / "deliver.log"):
        endpoints = feed.register(
            service.base_url, target.tenants, f"http://127.0.0.1:{receiver.port}/"
        )
        try:
            if o.warmup:
                wrk.run([load], service.base_url, o.warmup, o.timeout, target.data)
            receiver.taken()  # the warm-up's deliveries are not measured
            record, _ = _measure(target, [load])
            time.sleep(2)  # let the last events of the run arrive
            latencies = receiver.taken()
        finally:
            feed.unregister(service.base_url, endpoints)
    record["webhooks"] = {
        "delivered": len(latencies),
        "latency_ms": {"p50": feed.quantile(latencies, 0.5), "p99": feed.quantile(latencies, 0.99)},
    }
    return record


def _measure(target: Target, loads: list[wrk.Load]) -> tuple[dict[str, Any], list[wrk.WrkResult]]:
    o, service = target.options, target.service
    before = prom.scrape(service.admin_url)
    meter = CpuMeter(target.cpu)
    meter.start()
    main, *others = wrk.run(loads, service.base_url, o.duration, o.timeout, target.data)
    cpu = meter.percent()
    after = prom.scrape(service.admin_url)
    complete = prom.live_workers(after) == service.workers
    return _record(main, prom.delta(before, after), cpu, complete), others


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) for k, v in values.items()}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _record(
    result: wrk.WrkResult, d: prom.Samples, cpu: dict[str, float], complete: bool
) -> dict[str, Any]:
    hold_sum, hold_count, hold_buckets = prom.histogram(d, "db_connection_hold_seconds")
    wait_sum, wait_count, wait_buckets = prom.histogram(d, "db_pool_acquire_wait_seconds")
    api = prom.api_requests(d)
    # With a standby, its statements count too (its pool's hold and wait are not shown).
    trips = prom.total(d, "db_round_trips_total") + prom.total(d, "db_replica_round_trips_total")
    return {
        "requests_per_s": round(result.per_second, 1),
        # Change feed events the commands wrote (issue 18): events_written_total over the run.
        "events_per_s": round(prom.total(d, "events_written_total") / result.seconds, 1)
        if result.seconds
        else None,
        "ok_per_s": round(result.ok_per_second, 1),
        "requests": result.requests,
        "latency_ms": _rounded(result.latency_ms),
        "non_2xx": result.non_2xx,
        "statuses": result.statuses,
        "socket_errors": {k: v for k, v in result.errors.items() if k != "timeout"},
        "timeouts": result.errors["timeout"],
        "db": {
            "pool_timeouts": int(prom.total(d, "db_pool_timeouts_total")),
            "hold_mean_ms": _ms(hold_sum / hold_count) if hold_count else None,
            "hold_p99_ms": _ms(prom.quantile(0.99, hold_buckets)),
            "pool_wait_mean_ms": _ms(wait_sum / wait_count) if wait_count else None,
            "pool_wait_p99_ms": _ms(prom.quantile(0.99, wait_buckets)),
            "round_trips_per_request": round(trips / api, 3) if api else None,
            "api_requests": int(api),
            "metrics_from_every_worker": complete,
        },
        "cpu_percent": cpu,
        **_replica_reads(d),
        "versions": _versions(d),
    }


def _versions(d: prom.Samples) -> dict[str, Any]:
    """Answers that needed no data, and how late the workers heard of writes (issue 22): the
    delay is from the writing statement to a worker hearing it, so the staleness bound. The
    answer counts are gauges each worker samples every 0.25 s: a quarter second's worth off."""
    _, heard, buckets = prom.histogram(d, "resource_versions_notify_delay_seconds")
    return {
        "not_modified": int(prom.total(d, "response_not_modified")),
        "cache_hits": int(prom.total(d, "response_cache_hits")),
        "cache_misses": int(prom.total(d, "response_cache_misses")),
        "notified": int(heard),
        "notify_delay_p50_ms": _ms(prom.quantile(0.5, buckets)) if heard else None,
        "notify_delay_p99_ms": _ms(prom.quantile(0.99, buckets)) if heard else None,
    }


def _replica_reads(d: prom.Samples) -> dict[str, Any]:
    """Where routed reads ran and why some fell back, when the service has replicas."""
    targets = prom.by_label(d, "db_reads_total", "target")
    if not targets:
        return {}
    return {
        "reads": {
            "replica": int(targets.get("replica", 0)),
            "primary": int(targets.get("primary", 0)),
            "fallbacks": {
                reason: int(n)
                for reason, n in prom.by_label(d, "db_read_fallbacks_total", "reason").items()
            },
        }
    }
