"""Run the real service as a subprocess on free loopback ports: `python -m app` alone, or
`python -m app --workers N` (gunicorn) with its admin port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import terminate

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Service:
    base: str  # the API
    admin: str  # the admin port: /metrics, /livez, /readyz, /dashboard
    proc: subprocess.Popen[bytes]


@contextmanager
def running_service(
    env: Mapping[str, str],
    log_path: Path,
    ready_path: str = "/healthz",
) -> Iterator[str]:
    """Start one process, wait until it answers, yield its base URL, and always stop it."""
    with serving(env, log_path, ready_path=ready_path) as service:
        yield service.base


@contextmanager
def serving(
    env: Mapping[str, str],
    log_path: Path,
    *,
    workers: int | None = None,
    ready_path: str = "/healthz",
    stdout: Path | None = None,
) -> Iterator[Service]:
    """Start the service (under gunicorn with `workers`), yield it once every worker answers,
    and always stop it. `stdout` keeps stdout apart from stderr (else both go to log_path)."""
    port, admin = free_port(), free_port()
    full_env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ADMIN_PORT": str(admin),
        "LOG_LEVEL": "WARNING",
        **env,
    }
    command = [sys.executable, "-m", "app"]
    if workers is not None:
        command += ["--workers", str(workers)]
    with open(log_path, "wb") as log, open(stdout, "wb") if stdout else nullcontext(log) as out:
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=log,
            start_new_session=True,  # its own process group: nothing escapes the stop below
        )
        service = Service(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", proc)
        try:
            _wait_until_up(service.base + ready_path, proc, deadline=time.monotonic() + 30)
            if workers is not None:
                wait_for_workers(proc.pid, workers, within=30)
                _wait_for_apps(service.admin, workers, deadline=time.monotonic() + 30)
            yield service
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    # The whole group: gunicorn's workers must not outlive a manager that would not stop.
    terminate(proc, within=30, kill=lambda: os.killpg(proc.pid, signal.SIGKILL))


def workers_of(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def wait_for_workers(pid: int, count: int, within: float) -> set[int]:
    """The manager's workers once there are `count` of them (each has started its app)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = workers_of(pid)
        if len(found) == count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} workers, found {workers_of(pid)}")


def _wait_for_apps(admin: str, workers: int, deadline: float) -> None:
    """Until every worker's app is up: each has written its `db_pool_max{worker=...}`."""
    while time.monotonic() < deadline:
        with urllib.request.urlopen(admin + "/metrics", timeout=5) as resp:
            text = resp.read().decode()
        if text.count("\ndb_pool_max{") == workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"not all {workers} workers started their app in time")


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"service exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("service did not answer in time")
