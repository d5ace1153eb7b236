"""The dashboard's memory: samples the whole service every DASHBOARD_SAMPLE_SECONDS into a
history of DASHBOARD_HISTORY_SECONDS (app/ops/history.py), for as long as the admin app runs.

The routes' running totals (six per route) go into a ring of their own, every tenth sample:
the routes table only needs where its window starts, and the newest totals are kept apart,
so the table is exact at its end and within ten samples at its start, for a tenth of the
memory.

Every 10 s it also keeps the dashboard's full snapshot (cumulative counts and buckets per
worker, app/ops/dashboard.py) for a little over a minute, so a page that opens has a
minute-old baseline for its last-minute table instead of dashes.

Every process that serves the admin port keeps one (under gunicorn each worker does, each
reading every worker's metrics), so whichever worker answers a page has the past hour.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from prometheus_client.metrics_core import Metric

from app.ops.history import History
from app.ops.sampler import Sampler, read

log = structlog.get_logger("app.ops")

ROUTE_EVERY = 10
SNAPSHOT_EVERY_S, MINUTE_S = 10.0, 60.0


class Recorder:
    def __init__(
        self,
        collect: Callable[[], Iterable[Metric]],
        period: float,
        keep_seconds: float,
        snapshot: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.period = period
        capacity = max(1, math.ceil(keep_seconds / period))
        self.history = History(capacity)
        self.routes = History(math.ceil(capacity / ROUTE_EVERY) + 1)
        self.route_totals: dict[str, float] = {}  # the newest sample's
        self._collect = collect
        self._sampler = Sampler()
        self._snapshot = snapshot
        self._snapshots: deque[dict[str, Any]] = deque(maxlen=8)

    def take(self) -> None:
        now = time.time()
        reading = read(self._collect())
        self.history.append(now, self._sampler.row(now, reading))
        self.route_totals = dict(reading.routes)
        if (self.history.taken - 1) % ROUTE_EVERY == 0:
            self.routes.append(now, self.route_totals)
        newest = self._snapshots[-1]["time"] if self._snapshots else -math.inf
        if self._snapshot is not None and now - newest >= SNAPSHOT_EVERY_S:
            self._snapshots.append(self._snapshot())

    def minute_ago(self, now: float) -> dict[str, Any] | None:
        """The oldest kept snapshot at most a minute old (None before the first)."""
        return next((s for s in self._snapshots if now - s["time"] <= MINUTE_S), None)

    async def run(self) -> None:
        """Sample on a fixed beat (not `period` after the previous sample ended)."""
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            try:
                self.take()
            except Exception:  # a torn metrics file must not end the history
                log.exception("dashboard_sample_failed")
            next_at += self.period
            await asyncio.sleep(max(0.0, next_at - loop.time()))
