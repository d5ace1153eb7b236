"""Answers kept in memory by their validator, so a repeated read costs no round trip.

The key is the answer's strong validator (app/edge/freshness.py): it already names the
tenant, the route, the item, the query and the versions of everything the answer depends on,
so an entry can never answer for another tenant or outlive a change; old versions' entries
are simply never asked for again and age out. Bounded by bytes (RESPONSE_CACHE_MB), least
recently used first; each entry is charged its body, its key and a fixed overhead for the
dictionary slot and the objects around them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

# Per entry beyond body and key: the OrderedDict slot and links, two bytes objects' headers
# and the tuple (measured with sys.getsizeof on CPython 3.11: ~230 bytes; rounded up).
ENTRY_OVERHEAD = 256


class ResponseCache:
    """LRU of answer bodies by validator, at most `max_bytes` in all (0: off)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self.size = 0  # bytes charged, never above max_bytes
        self.hits = self.misses = self.not_modified = self.evictions = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> bytes | None:
        body = self._entries.get(key)
        if body is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return body

    def put(self, key: str, body: bytes) -> None:
        cost = _cost(key, body)
        if not self.enabled or cost > self.max_bytes or key in self._entries:
            return
        # A copy of exactly its length: orjson hands back bytes with a buffer of several
        # kilobytes whatever the length (measured: ~8 KB held for a 1.6 KB page), which would
        # hold several times the bound.
        body = bytes(memoryview(body))
        while self.size + cost > self.max_bytes:
            old_key, old_body = self._entries.popitem(last=False)
            self.size -= _cost(old_key, old_body)
            self.evictions += 1
        self._entries[key] = body
        self.size += cost


def _cost(key: str, body: bytes) -> int:
    return len(key) + len(body) + ENTRY_OVERHEAD


class ResponseCacheMetrics:
    """The cache's figures as gauges summed over the live workers, copied from its plain
    integers by `sample()` (a few times a second and before a scrape, like the pool's):
    nothing but an integer is touched on a request's path."""

    def __init__(self, cache: ResponseCache, registry: CollectorRegistry) -> None:
        self._cache = cache
        summed: dict[str, Any] = {"registry": registry, "multiprocess_mode": "livesum"}
        # Literal names: tests/ops/test_monitoring_rules.py reads them from the source.
        self._gauges = {
            "hits": Gauge("response_cache_hits", "Reads answered 200 from memory", **summed),
            "misses": Gauge("response_cache_misses", "Reads the cache did not answer", **summed),
            "not_modified": Gauge(
                "response_not_modified", "Reads answered 304 from versions", **summed
            ),
            "evictions": Gauge(
                "response_cache_evictions", "Answers dropped to stay in bounds", **summed
            ),
            "size": Gauge("response_cache_bytes", "Bytes the kept answers are charged", **summed),
        }

    def sample(self) -> None:
        for field, gauge in self._gauges.items():
            gauge.set(getattr(self._cache, field))
