"""scripts/failover-drill and scripts/bench --reload end to end, once and briefly, on private
clusters of their own: they run and print their summaries. They never assert a speed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.pgcluster import server_binaries_available

ROOT = Path(__file__).resolve().parents[2]
_SEARCH_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"

pytestmark = pytest.mark.slow


def run(*argv: str) -> str:
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_failover_drill_prints_a_timeline_and_loses_no_acknowledged_write() -> None:
    if not server_binaries_available():
        pytest.skip("the drill needs initdb and pg_ctl")
    out = run("failover-drill", "--before", "1", "--outage", "1", "--after", "1.5",
              "--readers", "2", "--writers", "2", "--workers", "1")  # fmt: skip
    assert "t = 0: primary stopped" in out
    assert "seconds without writes:" in out
    assert "acknowledged writes:" in out and out.rstrip().endswith("lost 0"), out


def test_the_reload_benchmark_replaces_the_workers_twice_under_wrk_and_reports() -> None:
    if shutil.which("wrk", path=_SEARCH_PATH) is None:
        pytest.skip("scripts/bench --reload needs wrk (apt-get install wrk)")
    out = run("bench", "--reload", "--duration", "6", "--connections", "10", "--writers", "1")
    assert "upgrade command exit status: 0" in out
    assert "wrk reads:" in out and "wrk socket errors:" in out
    assert "acknowledged writes:" in out and out.rstrip().endswith("lost 0"), out
