"""`python -m app --workers N`: N processes share the port, and SIGTERM stops all of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from app.runtime.config import read_places
from tests.support.server import ROOT, free_port

pytestmark = pytest.mark.slow


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def _wait_for(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_workers_share_the_port_and_all_stop_on_sigterm(tmp_path):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "LOG_LEVEL": "WARNING", "DB_POOL_MIN": "0"}
    log = open(tmp_path / "service.log", "wb")
    # Two cores at most (children inherit the affinity), so 3 workers size their read gate
    # differently from a lone worker and the test shows the supervisor told them.
    cores = sorted(os.sched_getaffinity(0))[:2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--workers", "3"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", time.monotonic() + 20)
        deadline = time.monotonic() + 10
        while len(_children(proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _children(proc.pid)
        assert len(workers) == 3
        for _ in range(30):  # every worker answers; the kernel spreads the connections
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                assert resp.status == 200
        # Each worker knows it has siblings: its read gate is sized for 3 sharing the cores.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        places = read_places(3, len(cores))
        assert places == 1 or len(cores) == 1
        assert f'http_admission_places{{gate="reads"}} {float(places)}' in metrics
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        for pid in workers:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
