"""/metrics of every worker, and what a run changed in them.

With N workers sharing the port, one scrape reaches one worker (the kernel picks by the
connection's hash). Each worker's registry has its own creation time in
`db_pool_timeouts_created`, so scraping with fresh connections until N distinct values were
seen yields every worker; the counters are then summed over the workers.
"""

from __future__ import annotations

import time
import urllib.request
from collections import defaultdict
from collections.abc import Mapping

from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, tuple[tuple[str, str], ...]]  # sample name, sorted labels
Samples = dict[Key, float]
_IDENTITY: Key = ("db_pool_timeouts_created", ())


def _scrape_once(base_url: str, timeout: float) -> Samples:
    # urllib opens a new connection per request, so the kernel may pick another worker.
    with urllib.request.urlopen(base_url + "/metrics", timeout=timeout) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape_workers(base_url: str, workers: int, within: float = 60.0) -> dict[float, Samples]:
    """Worker identity -> its samples; fewer than `workers` entries if some never answered.

    Right after a run at 1,000 connections a worker may still be working off requests whose
    clients have left, and answers /metrics only after them: hence the long deadline.
    """
    seen: dict[float, Samples] = {}
    deadline = time.monotonic() + within
    while len(seen) < workers and (left := deadline - time.monotonic()) > 0:
        try:
            samples = _scrape_once(base_url, timeout=left)
        except OSError:
            time.sleep(0.1)
            continue
        seen[samples[_IDENTITY]] = samples
    return seen


def delta(before: Mapping[float, Samples], after: Mapping[float, Samples]) -> Samples:
    """after - before, summed over the workers seen both times."""
    total: Samples = defaultdict(float)
    for worker in before.keys() & after.keys():
        old = before[worker]
        for key, value in after[worker].items():
            total[key] += value - old.get(key, 0.0)
    return dict(total)


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
