"""Metric families that both views of the dashboard read: the live summary
(app/ops/dashboard.py) and the history's samples (app/ops/sampler.py)."""

from __future__ import annotations

# Histogram family -> the name of its percentiles on the page.
HISTOGRAMS = {
    "http_request_duration_seconds": "latency",
    "db_pool_acquire_wait_seconds": "acquire_wait",
    "db_connection_hold_seconds": "hold",
}
# Problem types that are refusals: the service said no at once instead of queueing more.
REFUSALS = frozenset({"pool-saturated", "overloaded"})
