"""The service under test: `python -m app --workers N` on a free loopback port, and logins."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchlib.dataset import PASSWORD, BenchTenant
from benchlib.promscrape import live_workers, scrape

# High enough never to answer 429: the benchmark logs in on purpose (login-storm).
UNLIMITED_LOGINS = {
    "LOGIN_RATE_PER_EMAIL": "1000000000",
    "LOGIN_RATE_PER_ADDRESS": "1000000000",
    "LOGIN_BURST": "1000000",
}


# Webhook endpoints can be made, on loopback (the `feed` scenario; issue 18): the benchmark's
# own sealing key. Nothing else uses them.
WEBHOOK_ENV = {"WEBHOOK_SECRET_KEY": "bench-webhook-sealing-key-0001", "WEBHOOK_ALLOW_PRIVATE": "1"}


@dataclass(frozen=True, slots=True)
class Service:
    base_url: str
    admin_url: str  # /metrics of the whole service
    pid: int  # gunicorn's manager
    workers: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(database_url: str, owner_url: str, pool: int, log_level: str) -> dict[str, str]:
    env = {**os.environ, **UNLIMITED_LOGINS}
    env |= {
        "DATABASE_URL": database_url,
        "MIGRATION_DATABASE_URL": owner_url,
        "HOST": "127.0.0.1",
        "DB_POOL_MAX": str(pool),
        "LOG_LEVEL": log_level,
    }
    return env | WEBHOOK_ENV


@contextmanager
def running(env: Mapping[str, str], workers: int, log_path: Path) -> Iterator[Service]:
    """Start the service, wait until every worker answers, yield it, and always stop it."""
    port, admin = free_port(), free_port()
    command = [sys.executable, "-m", "app", "--workers", str(workers)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command,
            env={**env, "PORT": str(port), "ADMIN_PORT": str(admin)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing escapes the stop below
        )
        service = Service(
            f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", proc.pid, workers
        )
        try:
            _wait_until_ready(service, proc, log_path)
            yield service
        finally:
            _stop(proc)


def _wait_until_ready(service: Service, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited with {proc.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(service.base_url + "/readyz", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        time.sleep(0.1)
    else:
        raise RuntimeError(f"the service did not become ready in 30 s; see {log_path}")
    while live_workers(scrape(service.admin_url)) < service.workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not all {service.workers} workers answer; see {log_path}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # gunicorn drains its workers, then exits
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def log_in(base_url: str, tenant: BenchTenant) -> str:
    """A real login over HTTP; returns the session token."""
    body = json.dumps({"email": tenant.email, "password": PASSWORD}).encode()
    request = urllib.request.Request(
        base_url + "/api/sales/auth/login",
        data=body,
        headers={"X-Tenant": tenant.slug, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return str(json.loads(resp.read())["token"])


READ_PAGE = "/api/sales/customers?limit=20"  # the `read` page (scripts/wrk/common.lua)


def current_etag(base_url: str, tenant: BenchTenant, within: float = 10.0) -> str:
    """The `read` page's ETag for the tenant now (issue 22), for read-conditional. A worker
    gives none until its listener listens, and for a moment after it ran a command."""
    request = urllib.request.Request(
        base_url + READ_PAGE,
        headers={"X-Tenant": tenant.slug, "Authorization": f"Bearer {tenant.token}"},
    )
    deadline = time.monotonic() + within
    while True:
        with urllib.request.urlopen(request, timeout=30) as resp:
            etag = resp.headers.get("ETag")
        if etag:
            return str(etag)
        if time.monotonic() > deadline:
            raise RuntimeError(f"the read page had no ETag within {within} s")
        time.sleep(0.1)
