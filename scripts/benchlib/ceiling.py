"""`scripts/bench --ceiling`: how fast the bare stack goes, beside the service and pgbench.

Runs benchlib/ceiling_app.py (HTTP only, then HTTP plus the read's two queries) as 1 and as N
processes sharing the port, like the service's workers, and drives it with plain wrk (GET /,
2 threads, 100 connections). See ceiling_app.py for what each mode includes and leaves out.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchlib import wrk
from benchlib.procstat import CpuMeter, CpuSources
from benchlib.service import free_port

APP = Path(__file__).with_name("ceiling_app.py")
CONNECTIONS = 100


def _wrk(url: str, seconds: int) -> tuple[float, int]:
    command = [wrk.binary(), "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout=10s", url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if rate is None:
        raise RuntimeError(f"wrk failed against the ceiling app:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return float(rate.group(1)), int(bad.group(1)) if bad else 0


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the ceiling app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the ceiling app did not start within 30 s")


def _one(
    mode: str, extra: list[str], processes: int, seconds: int, warmup: int, cpu: CpuSources
) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    procs = [
        subprocess.Popen([sys.executable, str(APP), mode, str(port), *extra])
        for _ in range(processes)
    ]
    try:
        for proc in procs:
            _wait_ready(url, proc)
        if warmup:
            _wrk(url, warmup)
        sources = cpu
        for proc in procs:
            sources = sources.plus(f"app{proc.pid}", proc.pid)
        meter = CpuMeter(sources)
        meter.start()
        rate, non_2xx = _wrk(url, seconds)
        used = meter.percent()
        used["service"] = round(sum(used.pop(f"app{proc.pid}") for proc in procs), 1)
        return {
            "mode": mode,
            "processes": processes,
            "rps": rate,
            "non_2xx": non_2xx,
            "cpu_percent": used,
        }
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def measure(
    script: Path,
    url: str,
    pool: int,
    processes: tuple[int, ...],
    seconds: int,
    warmup: int,
    cpu: CpuSources,
) -> list[dict[str, Any]]:
    runs = []
    for count in processes:
        runs.append(_one("http", [], count, seconds, warmup, cpu))
        sql = [str(script), url, str(pool), str(count)]
        runs.append(_one("sql", sql, count, seconds, warmup, cpu))
    return runs


def line(result: dict[str, Any], pgbench_tps: float) -> str:
    what = {
        "http": "aiohttp alone, fixed JSON page    ",
        "sql": "aiohttp + aiopg, the read's 2 SQL ",
    }[result["mode"]]
    cpu = result["cpu_percent"]
    procs = f"{result['processes']} proc"
    return (
        f"ceiling  {what} {procs} {result['rps']:8.1f} req/s = {result['rps'] / pgbench_tps:.2f} x pgbench"
        f"  (non-2xx {result['non_2xx']}; cpu app {cpu.get('service', 0):.0f}%"
        f" postgres {cpu.get('postgres', 0):.0f}% wrk {cpu.get('wrk', 0):.0f}%)"
    )
