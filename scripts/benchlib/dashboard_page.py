"""An admin dashboard page, as the browser drives it: /dashboard.json twice a second (only the
samples it does not have yet) and the PostgreSQL panel once a second, for the admin port's
cost under load (`scripts/bench --dashboard-page`)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any

POLL_S, POSTGRES_S = 0.5, 1.0


class PagePoller:
    def __init__(self, admin_url: str) -> None:
        self._admin = admin_url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-page", daemon=True)
        self._since = 0.0
        self.polls = self.postgres_polls = self.errors = self.bytes = 0
        self.seconds = 0.0

    def __enter__(self) -> PagePoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def summary(self) -> dict[str, Any]:
        return {
            "polls": self.polls,
            "postgres_polls": self.postgres_polls,
            "errors": self.errors,
            "mean_ms": round(1000 * self.seconds / self.polls, 2) if self.polls else None,
            "mean_kb": round(self.bytes / self.polls / 1024, 1) if self.polls else None,
        }

    def _run(self) -> None:
        next_postgres = time.monotonic()
        while not self._stop.wait(POLL_S):
            self._poll()
            if time.monotonic() >= next_postgres:
                next_postgres += POSTGRES_S
                if self._get("/dashboard/postgres.json") is not None:
                    self.postgres_polls += 1

    def _poll(self) -> None:
        started = time.monotonic()
        body = self._get(f"/dashboard.json?since={self._since}&window=300")
        if body is None:
            return
        self.seconds += time.monotonic() - started
        self.polls += 1
        self.bytes += len(body)
        times = json.loads(body)["history"]["t"]
        if times:
            self._since = times[-1]

    def _get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(self._admin + path, timeout=10) as resp:
                body: bytes = resp.read()
                return body
        except OSError:
            self.errors += 1
            return None
