"""What the results were measured on: machine, server, dataset and settings, and the processes
whose CPU is counted (PostgreSQL for our database, our PgBouncer)."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict
from datetime import datetime
from typing import Any

import psycopg2

from benchlib.dataset import Size
from benchlib.options import Options
from benchlib.procstat import CpuSources
from benchlib.proctable import descendants_named, parent_of
from benchlib.report import cpu_line


def describe(owner_url: str, options: Options, size: Size, started: datetime) -> dict[str, Any]:
    conn = psycopg2.connect(owner_url)
    try:
        with conn.cursor() as cur:
            cur.execute("show server_version")
            server_version = cur.fetchone()[0]
    finally:
        conn.close()
    settings = asdict(options) | {"out": str(options.out) if options.out else None}
    settings["compare"] = None  # a benchmark run, not a comparison
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "postgres": server_version,
        "python": platform.python_version(),
        "dataset": {"tenants": 2, **asdict(size)},
        "options": settings,
        "login_rate_limits": "raised (the benchmark logs in on purpose)",
    }


def header(meta: dict[str, Any]) -> str:
    o, d = meta["options"], meta["dataset"]
    path = f"via PgBouncer (server pool {o['pgbouncer_pool']})" if o["pgbouncer"] else "direct"
    workers = ",".join(map(str, o["workers"]))
    return "\n".join(
        [
            f"sales API benchmark · {meta['host']} · {meta['cpus']} cores · PostgreSQL {meta['postgres']}",
            f"dataset  2 tenants x {d['customers']} customers, {d['products']} products,"
            f" {d['orders']} orders",
            f"service  DB_POOL_MAX={o['pool']}, LOG_LEVEL={o['log_level']}, login rate limits"
            f" raised; workers {workers}; database {path}",
            f"load     wrk, {','.join(map(str, o['connections']))} connections,"
            f" {o['duration']} s per run after {o['warmup']} s warm-up, socket timeout"
            f" {o['timeout']} s; scenarios {','.join(o['scenarios'])}",
            "note     wrk, the service and PostgreSQL share this machine; CPU % is of one core;"
            " softirq is mostly loopback networking; `other` = any other process (noise)",
        ]
    )


def cpu_sources(owner_url: str) -> CpuSources:
    """The server (parent of our backend, if it runs here) and any PgBouncer we started."""
    conn = psycopg2.connect(owner_url)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_backend_pid(), current_database()")
            backend, database = cur.fetchone()
            postmaster = parent_of(backend)  # None when the server runs elsewhere
    finally:
        conn.close()
    bouncers = descendants_named(os.getpid(), "pgbouncer")
    return CpuSources(
        {"pgbouncer": bouncers} if bouncers else {},
        (postmaster, database) if postmaster else None,
    )


def pgbench_line(result: dict[str, Any], transaction: str) -> str:
    cpu = cpu_line(result["cpu_percent"])
    return (
        f"\npgbench  {result['tps']:.1f} tps (one transaction = {transaction}),"
        f" mean latency {result['latency_mean_ms']:.2f} ms, {result['failed'] or 0:.0f} failed;"
        f" cpu {cpu}\n         {result['command']}"
    )
