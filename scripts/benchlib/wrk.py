"""Load with wrk: the Lua data file, one wrk process per load, and its JSON summary.

The Lua scripts live in scripts/wrk/; their done() callback prints one `BENCH_JSON {...}`
line that we parse instead of wrk's human-readable text.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchlib.dataset import PASSWORD, BenchTenant

LUA_DIR = Path(__file__).resolve().parents[1] / "wrk"
_MARKER = "BENCH_JSON "


@dataclass(frozen=True, slots=True)
class Load:
    script: str  # read, read-conditional, dashboard, mixed or login (scripts/wrk/<script>.lua)
    connections: int
    threads: int = 2


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    latency_ms: dict[str, float]  # p50 p90 p99 p99.9 mean max
    statuses: dict[str, int]
    errors: dict[str, int]  # connect read write timeout (status is in statuses)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    # A 304 is the answer read-conditional asks for: it counts as served, not as an error.
    @property
    def ok_per_second(self) -> float:
        ok = sum(n for code, n in self.statuses.items() if _answered(code))
        return ok / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for code, n in self.statuses.items() if not _answered(code))


def _answered(code: str) -> bool:
    return code.startswith("2") or code == "304"


def binary() -> str:
    found = os.environ.get("BENCH_WRK") or shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    return found


def write_data(path: Path, tenants: Sequence[BenchTenant]) -> None:
    """The Lua table common.lua loads; JSON strings are valid Lua strings for ASCII text."""

    def lua_list(items: Sequence[str]) -> str:
        return "{" + ", ".join(json.dumps(i) for i in items) + "}"

    rows = [
        f"  {{slug = {json.dumps(t.slug)}, token = {json.dumps(t.token)},"
        f" etag = {json.dumps(t.etag)},"
        f" email = {json.dumps(t.email)}, password = {json.dumps(PASSWORD)},\n"
        f"   customers = {lua_list(t.customers)},\n   products = {lua_list(t.products)}}},"
        for t in tenants
    ]
    path.write_text("return { tenants = {\n" + "\n".join(rows) + "\n} }\n")


def _start(
    load: Load, base_url: str, seconds: int, timeout: int, data: Path
) -> subprocess.Popen[str]:
    command = [
        binary(),
        f"--threads={min(load.threads, load.connections)}",
        f"--connections={load.connections}",
        f"--duration={seconds}s",
        f"--timeout={timeout}s",
        f"--script={LUA_DIR / (load.script + '.lua')}",
        base_url,
    ]
    env = {**os.environ, "BENCH_DATA": str(data), "BENCH_RUN_ID": str(time.time_ns())}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finish(proc: subprocess.Popen[str], seconds: int) -> WrkResult:
    try:
        output, _ = proc.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise RuntimeError("wrk did not finish in time") from None
    lines = [line for line in output.splitlines() if line.startswith(_MARKER)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}):\n{output}")
    doc = json.loads(lines[-1][len(_MARKER) :])
    latency = {f"p{k}": v / 1000 for k, v in doc["latency_us"]["percentiles"].items()}
    latency |= {"mean": doc["latency_us"]["mean"] / 1000, "max": doc["latency_us"]["max"] / 1000}
    errors = {k: v for k, v in doc["errors"].items() if k != "status"}
    return WrkResult(doc["requests"], doc["duration_us"] / 1e6, latency, doc["statuses"], errors)


def run(
    loads: Sequence[Load], base_url: str, seconds: int, timeout: int, data: Path
) -> list[WrkResult]:
    """Every load at once, for the same duration; results in the order given."""
    procs = [_start(load, base_url, seconds, timeout, data) for load in loads]
    try:
        return [_finish(proc, seconds) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
