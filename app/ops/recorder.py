"""The dashboard's memory: samples the whole service every DASHBOARD_SAMPLE_SECONDS into a
history of DASHBOARD_HISTORY_SECONDS (app/ops/history.py), for as long as the admin app runs.

Every process that serves the admin port keeps one (under gunicorn each worker does, each
reading every worker's metrics), so whichever worker answers a page has the past hour.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable

import structlog
from prometheus_client.metrics_core import Metric

from app.ops.history import History
from app.ops.sampler import Sampler, read

log = structlog.get_logger("app.ops")


class Recorder:
    def __init__(
        self, collect: Callable[[], Iterable[Metric]], period: float, keep_seconds: float
    ) -> None:
        self.period = period
        self.history = History(max(1, math.ceil(keep_seconds / period)))
        self._collect = collect
        self._sampler = Sampler()

    def take(self) -> None:
        now = time.time()
        self.history.append(now, self._sampler.row(now, read(self._collect())))

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
