"""The `feed` scenario's pieces: a local webhook receiver, endpoints registered for each bench
tenant, and a deliverer process (`python -m app deliver`) beside the service.

The receiver takes each call's latency as its arrival time minus the event's `occurred_at`
(one host, one clock): from the commit's transaction start to the receiver, i.e. the commit,
the notification, the claim, the batch read, signing and the call.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchlib.dataset import BenchTenant
from benchlib.service import free_port


class Receiver:
    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                occurred = datetime.fromisoformat(json.loads(body)["occurred_at"]).timestamp()
                with receiver._lock:
                    receiver.latencies_ms.append((time.time() - occurred) * 1000)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def taken(self) -> list[float]:
        with self._lock:
            taken, self.latencies_ms = self.latencies_ms, []
        return taken


def register(base_url: str, tenants: list[BenchTenant], url: str) -> list[tuple[BenchTenant, str]]:
    """One endpoint for every event type per tenant; returns (tenant, endpoint id)."""
    made = []
    for tenant in tenants:
        answer = _call(base_url, tenant, "POST", "/api/sales/webhooks", {"url": url})
        made.append((tenant, str(answer["id"])))
    return made


def unregister(base_url: str, endpoints: list[tuple[BenchTenant, str]]) -> None:
    for tenant, endpoint_id in endpoints:
        _call(base_url, tenant, "DELETE", f"/api/sales/webhooks/{endpoint_id}", None)


def _call(base_url: str, tenant: BenchTenant, method: str, path: str, body: Any) -> Any:
    request = urllib.request.Request(
        base_url + path,
        data=json.dumps(body).encode() if body is not None else b"",
        headers={
            "X-Tenant": tenant.slug,
            "Authorization": f"Bearer {tenant.token}",
            "Content-Type": "application/json",
        },
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


@contextmanager
def delivering(env: Mapping[str, str], log_path: Path) -> Iterator[None]:
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "deliver"],
            env={**env, "LOG_LEVEL": "WARNING"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)
