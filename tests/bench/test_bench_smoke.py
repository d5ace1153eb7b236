"""scripts/bench end to end, once, for a few seconds on a tiny dataset in a database of its own:
it runs, reports and writes its JSON. It never asserts a speed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest

ROOT = Path(__file__).resolve().parents[2]
_SEARCH_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


@pytest.fixture
def bench_database() -> Iterator[str]:
    name = f"sales_bench_smoke_{uuid.uuid4().hex[:12]}"
    yield name
    conn = psycopg2.connect(os.environ["ADMIN_DATABASE_URL"])
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"drop database if exists {name} with (force)")
    finally:
        conn.close()


def _bench_env(database: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SALES_BENCH_DB": database,
        # scripts/bench provisions with an admin URL; the tests' DATABASE_URL is the app role.
        "BENCH_ADMIN_URL": os.environ["ADMIN_DATABASE_URL"],
    }
    # Provisioning (re)sets the roles' passwords: keep the ones this test run connects with.
    for variable, url in (
        ("DB_OWNER_PASSWORD", "MIGRATION_DATABASE_URL"),
        ("DB_APP_PASSWORD", "DATABASE_URL"),
        ("DB_MONITOR_PASSWORD", "MONITOR_DATABASE_URL"),
    ):
        password = urlsplit(os.environ.get(url, "")).password
        if password is not None:
            env[variable] = password
    return env


@pytest.mark.slow
def test_bench_runs_read_mixed_feed_the_ceiling_and_a_dashboard_page_on_a_tiny_dataset(
    bench_database: str, tmp_path: Path
) -> None:
    missing = [tool for tool in ("wrk", "pgbench") if shutil.which(tool, path=_SEARCH_PATH) is None]
    if missing:
        pytest.skip(
            f"scripts/bench needs {' and '.join(missing)} (apt-get install wrk postgresql-client)"
        )
    out = tmp_path / "results.json"
    command = ["bash", str(ROOT / "scripts" / "bench"), "--tiny"]
    command += ["--scenarios", "read,read-conditional,mixed,feed", "--response-cache-mb", "0"]
    command += ["--connections", "10", "--duration", "2", "--warmup", "1", "--workers", "1"]
    command += ["--ceiling", "--dashboard-page", "--out", str(out)]

    done = subprocess.run(
        command, env=_bench_env(bench_database), capture_output=True, text=True, timeout=150
    )

    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(out.read_text())
    assert results["pgbench"]["tps"] > 0
    assert results["pgbench_one_trip"]["tps"] > 0  # the page query alone, the one-trip limit
    ceiling = {run["mode"]: run for run in results["ceiling"]}
    assert set(ceiling) == {"http", "sql"}
    assert all(run["rps"] > 0 and run["non_2xx"] == 0 for run in ceiling.values())
    assert "x pgbench" in done.stdout, "the ceiling lines are printed beside pgbench"
    runs = {run["scenario"]: run for run in results["runs"]}
    assert set(runs) == {"read", "read-conditional", "mixed", "feed"}
    assert runs["mixed"]["events_per_s"] > 0  # orders write their events
    assert runs["feed"]["webhooks"]["delivered"] > 0, runs["feed"]
    assert runs["feed"]["webhooks"]["latency_ms"]["p99"] is not None
    for run in runs.values():
        assert run["requests_per_s"] > 0
        assert run["vs_pgbench"] > 0
        assert run["vs_one_trip"] > 0
        assert run["response_cache_mb"] == 0
        assert run["consistency"]["ok"], run["consistency"]
    # --dashboard-page: read and mixed again with a page polling the admin port (no speed
    # asserted); `feed` measures webhook delivery instead.
    for run in (runs["read"], runs["mixed"]):
        assert run["dashboard_page"]["polls"] > 0 and run["dashboard_page"]["errors"] == 0
        assert run["dashboard_page"]["without_page"]["requests_per_s"] > 0
    for name in ("read", "mixed"):
        assert runs[name]["db"]["round_trips_per_request"] > 0
    # With the page's current ETag every answer is a 304 from the workers' versions.
    conditional = runs["read-conditional"]
    assert set(conditional["statuses"]) == {"304"} and conditional["non_2xx"] == 0
    assert conditional["versions"]["not_modified"] > 0
    assert conditional["db"]["round_trips_per_request"] == 0
    # The mixed run's writes were heard, and how late is measured (the staleness bound).
    assert runs["mixed"]["versions"]["notified"] > 0
    assert runs["mixed"]["versions"]["notify_delay_p99_ms"] is not None
    assert results["complete"] and results["consistency"]["ok"]
    assert "read" in done.stdout and "mixed" in done.stdout  # the table was printed
    assert "polls of /dashboard.json" in done.stdout
