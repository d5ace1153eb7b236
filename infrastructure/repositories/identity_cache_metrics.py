"""The principal cache's and its listener's figures, for /metrics."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from infrastructure.db.listener import Listener
from infrastructure.repositories.identity_cache import PrincipalCache


class AuthCacheCollector(Collector):
    """The cache's and the listener's figures, read when /metrics is scraped: nothing is
    updated on a request's path but plain integers."""

    def __init__(self, cache: PrincipalCache, listener: Listener | None) -> None:
        self._cache = cache
        self._listener = listener

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        cache, listener = self._cache, self._listener
        for name, value, doc in (
            ("auth_cache_hits", cache.hits, "Principals answered from the cache"),
            ("auth_cache_misses", cache.misses, "Cache lookups that asked the database"),
            ("auth_cache_expired", cache.expired, "Tokens refused from the cache as expired"),
            (
                "auth_cache_bypassed",
                cache.bypassed,
                "Lookups that skipped the cache because the listener was not listening",
            ),
        ):
            yield CounterMetricFamily(name, doc, value=value)
        invalidations = CounterMetricFamily(
            "auth_cache_invalidations", "Entries invalidated, by what said so", labels=["kind"]
        )
        for kind, count in sorted(cache.invalidations.items()):
            invalidations.add_metric([kind], count)
        yield invalidations
        yield GaugeMetricFamily("auth_cache_entries", "Principals cached", value=len(cache))
        up = listener is not None and listener.up
        yield GaugeMetricFamily(
            "auth_listener_up", "1 while this worker listens for invalidations", value=float(up)
        )
        if listener is not None:
            yield CounterMetricFamily(
                "auth_listener_outages",
                "Times the listener stopped listening (the cache was cleared and bypassed)",
                value=listener.outages,
            )
            yield CounterMetricFamily(
                "auth_listener_down_seconds",
                "Time this worker was not listening, the start included",
                value=listener.seconds_down(),
            )
