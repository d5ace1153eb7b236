"""The physical limit: `pgbench -n -M simple -c POOL -j 2` running read_sql's script.

Same client count as the service's pool, same database path (direct or via PgBouncer), no
Python in between: the service's req/s divided by this tps says how much of what PostgreSQL
could serve the service actually delivers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchlib.procstat import CpuMeter, CpuSources


def binary() -> str:
    found = os.environ.get("BENCH_PGBENCH") or shutil.which("pgbench")
    if not found:
        raise SystemExit("pgbench is not installed: apt-get install postgresql-client")
    return found


def _run(script: Path, url: str, clients: int, seconds: int) -> str:
    command = [binary(), "-n", "-M", "simple", "-c", str(clients), "-j", str(min(2, clients))]
    command += ["-T", str(seconds), "-f", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0 or not re.search(r"^tps = ", done.stdout, re.M):
        raise RuntimeError(
            f"pgbench failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def _number(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else None


def measure(
    script: Path,
    url: str,
    clients: int,
    seconds: int,
    warmup: int,
    cpu: CpuSources,
) -> dict[str, Any]:
    if warmup:
        _run(script, url, clients, warmup)
    meter = CpuMeter(cpu, children_label="pgbench")
    meter.start()
    out = _run(script, url, clients, seconds)
    cpu = meter.percent()
    return {
        "tps": _number(r"^tps = ([\d.]+)", out),
        "latency_mean_ms": _number(r"^latency average = ([\d.]+) ms", out),
        "transactions": _number(r"actually processed: (\d+)", out),
        "failed": _number(r"^number of failed transactions: (\d+)", out),
        "clients": clients,
        "seconds": seconds,
        "cpu_percent": cpu,
        "command": f"pgbench -n -M simple -c {clients} -j {min(2, clients)} -T {seconds} -f <script>",
    }
