"""Saturation thresholds, in one place: the admin dashboard colours by them, and the shipped
Prometheus alert rules (docs/monitoring/alerts.yml) compare against the same numbers
(tests/ops/test_monitoring_rules.py fails when the two drift apart).

The dashboard marks a line as soon as the condition holds (`page_after_s` for the waiters),
because someone is looking; an alert waits its `for:` (`alert_for`) before paging anyone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Threshold:
    key: str
    alert: str  # the alert rule that compares against `limit`
    limit: float
    alert_for: str  # the rule's `for:`
    page_after_s: float = 0.0  # how long the dashboard waits before it marks the condition
    what: str = ""


POOL_BUSY = Threshold(
    "pool_busy",
    "SalesApiPoolSaturated",
    0.8,
    "5m",
    what="a worker's pool has at least this share of its connections in use",
)
POOL_WAITING = Threshold(
    "pool_waiting",
    "SalesApiPoolWaiting",
    0.0,
    "2m",
    page_after_s=5.0,
    what="requests wait for a connection (more than this many, for 5 s on the page)",
)
OLDEST_WAITER = Threshold(
    "oldest_waiter",
    "SalesApiPoolOldestWaiter",
    1.0,
    "1m",
    what="seconds the longest-waiting request has waited for a connection",
)
# A share of REQUEST_TIMEOUT: past half the deadline, the slowest requests are close to 503.
LATENCY_P99 = Threshold(
    "latency_p99",
    "SalesApiLatencyP99High",
    0.5,
    "5m",
    what="latency p99 as a share of REQUEST_TIMEOUT",
)

THRESHOLDS = (POOL_BUSY, POOL_WAITING, OLDEST_WAITER, LATENCY_P99)


def latency_limit(request_timeout: float) -> float:
    """Seconds of p99 latency past which requests count as slow."""
    return LATENCY_P99.limit * request_timeout


def for_page(request_timeout: float) -> dict[str, dict[str, float | str]]:
    """The thresholds as /dashboard.json carries them, the latency one in seconds."""
    page: dict[str, dict[str, float | str]] = {
        t.key: {"limit": t.limit, "after_s": t.page_after_s, "what": t.what} for t in THRESHOLDS
    }
    page[LATENCY_P99.key]["seconds"] = latency_limit(request_timeout)
    return page
