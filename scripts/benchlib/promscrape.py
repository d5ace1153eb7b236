"""The service's metrics from its admin port, and what a run changed in them.

One scrape covers every worker: the workers run under gunicorn with prometheus-client's
multiprocess mode (app/runtime/gunicorn_conf.py), so counters are already summed over them
and each live worker has its own `db_pool_max{worker=...}` series.
"""

from __future__ import annotations

import time
import urllib.request
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, tuple[tuple[str, str], ...]]  # sample name, sorted labels
Samples = dict[Key, float]


def scrape(admin_url: str, within: float = 60.0) -> Samples:
    """One scrape of the admin /metrics, retried until `within` runs out.

    Right after a run at 1,000 connections the workers may still be working off requests
    whose clients have left: hence the long deadline.
    """
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(admin_url + "/metrics", timeout=10) as resp:
                text = resp.read().decode()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def live_workers(samples: Samples) -> int:
    return sum(1 for name, _ in samples if name == "db_pool_max")


def delta(before: Samples, after: Samples) -> Samples:
    """after - before."""
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


def _select(d: Samples, name: str, skip_kind: str = "health") -> list[tuple[dict[str, str], float]]:
    found = []
    for (sample, labels), value in d.items():
        label_map = dict(labels)
        if sample == name and label_map.get("kind") != skip_kind:
            found.append((label_map, value))
    return found


def total(d: Samples, name: str) -> float:
    return sum(value for _, value in _select(d, name))


def histogram(d: Samples, name: str) -> tuple[float, float, list[tuple[float, float]]]:
    """(sum, count, cumulative buckets sorted by bound), over every kind except health."""
    buckets: dict[float, float] = defaultdict(float)
    for labels, value in _select(d, name + "_bucket"):
        buckets[float(labels["le"])] += value
    return total(d, name + "_sum"), total(d, name + "_count"), sorted(buckets.items())


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Like PromQL's histogram_quantile: linear inside the bucket the rank falls in."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower_bound  # beyond the last finite bucket: its bound is all we know
            inside = count - lower_count
            share = (rank - lower_count) / inside if inside else 1.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return None


def api_requests(d: Samples) -> float:
    return sum(
        value
        for (sample, labels), value in d.items()
        if sample == "http_requests_total" and dict(labels).get("route", "").startswith("/api/")
    )


def by_label(d: Samples, name: str, label: str) -> dict[str, float]:
    """A counter's delta per value of one label (e.g. db_reads_total by target)."""
    found: dict[str, float] = defaultdict(float)
    for labels, value in _select(d, name):
        found[labels.get(label, "")] += value
    return dict(found)
