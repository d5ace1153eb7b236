"""Saturation at a glance: which of the thresholds (app/ops/thresholds.py) the newest samples
cross, each with the chart series it concerns, so the page can colour its header and that line.
"""

from __future__ import annotations

import math
from typing import Any

from app.ops.history import History
from app.ops.thresholds import LATENCY_P99, OLDEST_WAITER, POOL_BUSY, POOL_WAITING, latency_limit


def findings(history: History, period: float, request_timeout: float) -> list[dict[str, Any]]:
    found = [*_busy_pools(history), *_waiting(history, period)]
    oldest = history.latest("pool.oldest_wait")
    if oldest > OLDEST_WAITER.limit:
        found.append(
            _finding(
                OLDEST_WAITER.key,
                "pool.oldest_wait",
                f"a request has waited {oldest:.1f} s for a connection",
            )
        )
    p99 = history.latest("latency.p99")
    if p99 > latency_limit(request_timeout):
        found.append(
            _finding(
                LATENCY_P99.key,
                "latency.p99",
                f"latency p99 {p99:.2f} s is over half the request deadline ({request_timeout:g} s)",
            )
        )
    return found


def _busy_pools(history: History) -> list[dict[str, Any]]:
    found = []
    for name in history.names():
        if name.startswith("worker.") and name.endswith(".in_use"):
            worker = name.split(".")[1]
            in_use, size = history.latest(name), history.latest(f"worker.{worker}.max")
            if size > 0 and in_use / size >= POOL_BUSY.limit:
                found.append(
                    _finding(
                        POOL_BUSY.key,
                        name,
                        f"worker {worker}: {in_use:.0f} of {size:.0f} connections in use",
                    )
                )
    return found


def _waiting(history: History, period: float) -> list[dict[str, Any]]:
    """Waiters in every sample of the last POOL_WAITING.page_after_s seconds."""
    samples = math.ceil(POOL_WAITING.page_after_s / period) + 1
    if len(history) < samples:
        return []
    waiting = [history.latest("pool.waiting", back) for back in range(samples)]
    if all(w > POOL_WAITING.limit for w in waiting):
        return [
            _finding(
                POOL_WAITING.key,
                "pool.waiting",
                f"requests have waited for a connection for {POOL_WAITING.page_after_s:g} s"
                f" ({waiting[0]:.0f} now)",
            )
        ]
    return []


def _finding(key: str, series: str, text: str) -> dict[str, Any]:
    return {"key": key, "series": series, "text": text}
