"""The benchmark behind scripts/bench (which provisions and migrates the database first).

Seeds two tenants, measures the pgbench limit for one `read` request's SQL, then for each
worker count starts the service, logs in, and runs every scenario at every connection count
with wrk. Prints a block per run and a summary table; writes JSON to .bench/.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import (
    ceiling,
    consistency,
    dataset,
    environment,
    pgbench,
    read_sql,
    report,
    runner,
    service,
    wrk,
)
from benchlib.options import Options, parse
from benchlib.procstat import CpuSources

from app.runtime.config import load_config

ROOT = Path(__file__).resolve().parents[1]
Run = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Bench:
    options: Options
    tenants: list[dataset.BenchTenant]
    owner_url: str  # seeding and checks (MIGRATION_DATABASE_URL)
    env: dict[str, str]  # the service's environment; its DATABASE_URL is the path under test
    tmp: Path  # pgbench script and wrk data (session tokens): private, removed at the end
    cpu: CpuSources
    results: dict[str, Any]
    out: Path

    def save(self) -> None:
        """After every run, so an interrupted benchmark keeps what it measured."""
        self.out.write_text(json.dumps(self.results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    if options.compare:
        a, b = (json.loads(path.read_text()) for path in options.compare)
        print(report.compare(a, b))
        return 0
    clock, started = time.monotonic(), datetime.now(UTC).replace(microsecond=0)
    out = options.out or ROOT / ".bench" / f"results-{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    results = _benchmark(options, started, out)
    print("\n" + report.table(results["runs"]))
    print(
        f"\npgbench: {results['pgbench']['tps']:.0f} tps (x pgb = req/s / that),"
        f" page query alone {results['pgbench_one_trip']['tps']:.0f} tps (x 1trip); results: {out}"
    )
    print(f"({time.monotonic() - clock:.0f} s)", file=sys.stderr)
    return 0 if results["consistency"]["ok"] else 1


def _benchmark(options: Options, started: datetime, out: Path) -> dict[str, Any]:
    app_url, owner_url = os.environ["DATABASE_URL"], os.environ["MIGRATION_DATABASE_URL"]
    tenants, size = dataset.prepare(owner_url, options.tiny)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sales-bench-")))
        db_url = stack.enter_context(_database_path(app_url, options))
        env = service.service_env(db_url, owner_url, options.pool, options.log_level)
        meta = environment.describe(owner_url, options, size, started)
        print(environment.header(meta), flush=True)
        results: dict[str, Any] = {"meta": meta, "complete": False, "runs": []}
        cpu = environment.cpu_sources(owner_url)
        bench = Bench(options, tenants, owner_url, env, tmp, cpu, results, out)
        script = tmp / "read.pgbench"
        statement_timeout = f"{load_config(env).db_statement_timeout_ms}ms"  # as the service
        read_sql.write_script(script, app_url, tenants, size.pgbench_sessions, statement_timeout)
        o = options
        limit = pgbench.measure(script, db_url, o.pool, o.duration, o.warmup, bench.cpu)
        print(environment.pgbench_line(limit), flush=True)
        results["pgbench"] = limit
        # The same page query without the session lookup: the limit of a one-trip read.
        page_only = tmp / "page.pgbench"
        read_sql.write_script(
            page_only, app_url, tenants, size.pgbench_sessions, statement_timeout, one_trip=True
        )
        one_trip = pgbench.measure(page_only, db_url, o.pool, o.duration, o.warmup, bench.cpu)
        print(environment.pgbench_line(one_trip, "the page query alone"), flush=True)
        results["pgbench_one_trip"] = one_trip
        if o.ceiling:
            bare = ceiling.measure(
                script, db_url, o.pool, o.workers, o.duration, o.warmup, bench.cpu
            )
            for run in bare:
                print(ceiling.line(run, limit["tps"]), flush=True)
            results["ceiling"] = bare
        for workers in o.workers:
            _serve(bench, workers, limit["tps"], one_trip["tps"])
    results["consistency"] = consistency.check(owner_url, tenants)
    results["complete"] = True
    bench.save()
    return results


@contextmanager
def _database_path(app_url: str, options: Options) -> Iterator[str]:
    """The app role's URL, or the same through a fresh PgBouncer in transaction mode."""
    if not options.pgbouncer:
        yield app_url
        return
    sys.path.insert(0, str(ROOT))
    from tests.support import pgbouncer

    # The helper's module constant; its server pool is smaller than workers x pool.
    pgbouncer.SERVER_POOL_SIZE = options.pgbouncer_pool
    with pgbouncer.running_pgbouncer(app_url) as url:
        yield url


def _serve(bench: Bench, workers: int, pgbench_tps: float, one_trip_tps: float) -> None:
    """Start the service with this many workers, log in, run every scenario x connections;
    with --replica, once on the primary alone and once with the standby."""
    primary_only = {k: v for k, v in bench.env.items() if k != "DATABASE_REPLICA_URLS"}
    limits = (pgbench_tps, one_trip_tps)
    for cache_mb in bench.options.response_cache_mb or (None,):
        cache = {} if cache_mb is None else {"RESPONSE_CACHE_MB": str(cache_mb)}
        _serve_with(bench, primary_only | cache, workers, limits, replica=False)
        if bench.options.replica:
            _serve_with(bench, bench.env | cache, workers, limits, replica=True)


def _serve_with(
    bench: Bench,
    env: dict[str, str],
    workers: int,
    limits: tuple[float, float],
    *,
    replica: bool,
) -> None:
    cache_mb = env.get("RESPONSE_CACHE_MB")
    cache = f"-cache{cache_mb}" if cache_mb is not None else ""
    log = ROOT / ".bench" / f"service-{workers}w{'-replica' if replica else ''}{cache}.log"
    with service.running(env, workers, log) as svc:
        for tenant in bench.tenants:
            tenant.token = service.log_in(svc.base_url, tenant)
        data = bench.tmp / f"data-{workers}w.lua"
        wrk.write_data(data, bench.tenants)
        cpu = bench.cpu.plus("service", svc.pid)
        target = runner.Target(svc, data, cpu, bench.options, env, bench.tenants, log.parent)
        for scenario in bench.options.scenarios:
            for connections in bench.options.connections:
                if scenario == "read-conditional":
                    _fetch_etags(bench, svc.base_url, data)
                run = _run(bench, target, scenario, connections, *limits, replica, cache_mb)
                bench.results["runs"].append(run)
                bench.save()


def _fetch_etags(bench: Bench, base_url: str, data: Path) -> None:
    """Each tenant's current ETag of the `read` page into the wrk data (issue 22): nothing
    writes during a read-conditional run, so they stay current."""
    for tenant in bench.tenants:
        tenant.etag = service.current_etag(base_url, tenant)
    wrk.write_data(data, bench.tenants)


def _run(
    bench: Bench,
    target: runner.Target,
    scenario: str,
    connections: int,
    tps: float,
    one_trip_tps: float,
    replica: bool = False,
    cache_mb: str | None = None,
) -> Run:
    o = bench.options
    head = {"scenario": scenario, "connections": connections, "workers": target.service.workers}
    head["pgbouncer"] = o.pgbouncer
    head["replica"] = replica
    if cache_mb is not None:
        head["response_cache_mb"] = float(cache_mb)
    seconds = o.warmup + o.duration * (2 if scenario == "login-storm" else 1)
    print(f"\n==> {report.title(head)} ({seconds} s)", file=sys.stderr)
    run = head | runner.run_scenario(target, scenario, connections)
    run["vs_pgbench"] = round(run["requests_per_s"] / tps, 3) if tps else None
    run["vs_one_trip"] = round(run["requests_per_s"] / one_trip_tps, 3) if one_trip_tps else None
    run["consistency"] = consistency.check(bench.owner_url, bench.tenants)
    print("\n" + report.block(run), flush=True)
    return run


if __name__ == "__main__":
    sys.exit(main())
