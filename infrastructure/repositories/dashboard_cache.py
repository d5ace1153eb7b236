"""The dashboard, computed at most once per tenant per TTL in each worker.

The dashboard aggregates a tenant's whole order and invoice history, and PostgreSQL serves
it ~120 times a second on the benchmark machine: a few hundred staff refreshing a screen
would keep the database busy with identical sums. A summary a couple of seconds old is
what a dashboard shows anyway, so each worker keeps the last one per tenant for
DASHBOARD_CACHE_TTL seconds, and callers that miss at the same moment share ONE query
instead of each sending their own.

With a `stamp` (the tenant's resource versions, infrastructure/versions.py), a summary is
reused only while the versions it was computed under are still current: the dashboard's ETag
(app/edge/freshness.py) is built from those versions, and must never be sent with a summary
older than they say.

The shared query runs in a task of its own, outside any request's accounting; the request
that started it is charged its round trips, hold and wait when it ends (so `db_round_trips`
and Server-Timing say what that request made the database do). Requests that joined it
waited on it, which shows in their duration, and are charged no trip: summed over requests,
the round trips are the ones the database served.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable, Hashable
from uuid import UUID

from domain.model.dashboard import Dashboard
from domain.ports import DashboardReader
from infrastructure.db.stats import DbStats, charge, current_stats

_MAX_ENTRIES = 10_000

Stamp = Callable[[UUID], Hashable]
_Loading = asyncio.Task[tuple[Dashboard, DbStats]]


class CachedDashboardReader:
    def __init__(self, inner: DashboardReader, ttl: float, stamp: Stamp | None = None) -> None:
        self._inner = inner
        self._ttl = ttl
        self._stamp = stamp
        self._fresh: dict[tuple[UUID, int], tuple[float, Hashable, Dashboard]] = {}
        # By stamp too: a caller never shares a query that started before what it has heard.
        self._loading: dict[tuple[UUID, int, Hashable], _Loading] = {}

    async def summary(self, tenant_id: UUID, low_stock_threshold: int) -> Dashboard:
        if self._ttl <= 0:
            return await self._inner.summary(tenant_id, low_stock_threshold)
        key = (tenant_id, low_stock_threshold)
        stamp = self._stamp(tenant_id) if self._stamp is not None else None
        hit = self._fresh.get(key)
        if hit is not None and hit[0] > time.monotonic() and hit[1] == stamp:
            return hit[2]
        loading = self._loading.get((*key, stamp))
        if loading is not None:
            summary, _ = await asyncio.shield(loading)
            return summary
        # A task of its own: a caller that gives up (timeout, disconnect) must not cancel
        # the query the others are waiting for. A fresh context, too: the query belongs to
        # no single request's log bindings, and its accounting is charged below.
        loading = asyncio.get_running_loop().create_task(
            self._load(key, stamp), context=contextvars.Context()
        )
        self._loading[(*key, stamp)] = loading
        summary, spent = await asyncio.shield(loading)
        charge(current_stats.get(), spent)
        return summary

    async def _load(self, key: tuple[UUID, int], stamp: Hashable) -> tuple[Dashboard, DbStats]:
        spent = DbStats()
        current_stats.set(spent)
        try:
            summary = await self._inner.summary(*key)  # started after `stamp` was heard
        finally:
            del self._loading[(*key, stamp)]
        if len(self._fresh) >= _MAX_ENTRIES:
            self._fresh.clear()  # bounded memory; the hot tenants refill at once
        self._fresh[key] = (time.monotonic() + self._ttl, stamp, summary)
        return summary, spent
