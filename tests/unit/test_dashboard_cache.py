"""The dashboard cache: one query per tenant per TTL, shared by callers that miss together."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest

from domain.model.dashboard import Dashboard
from infrastructure.db.stats import begin_request, current_stats
from infrastructure.repositories.dashboard_cache import CachedDashboardReader


def dashboard(customers: int) -> Dashboard:
    zero = Decimal("0.00")
    return Dashboard(customers, 0, [], 0, 0, zero, zero, zero, 0, zero, "USD")


class CountingReader:
    """A fake DashboardReader: counts queries, answers once `release` is set."""

    def __init__(self) -> None:
        self.calls: list[uuid.UUID] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail = False

    async def summary(self, tenant_id: uuid.UUID, low_stock_threshold: int) -> Dashboard:
        self.calls.append(tenant_id)
        await self.release.wait()
        if self.fail:
            raise RuntimeError("database fault")
        return dashboard(customers=len(self.calls))


A, B = uuid.uuid4(), uuid.uuid4()


async def test_callers_that_miss_together_share_one_query() -> None:
    inner = CountingReader()
    inner.release.clear()
    cache = CachedDashboardReader(inner, ttl=60)
    callers = [asyncio.create_task(cache.summary(A, 5)) for _ in range(20)]
    await asyncio.sleep(0)
    inner.release.set()

    results = await asyncio.gather(*callers)

    assert len(inner.calls) == 1
    assert {r.customers for r in results} == {1}


async def test_within_the_ttl_the_answer_is_reused_and_each_tenant_has_its_own() -> None:
    inner = CountingReader()
    cache = CachedDashboardReader(inner, ttl=60)

    first_a = await cache.summary(A, 5)
    again_a = await cache.summary(A, 5)
    first_b = await cache.summary(B, 5)

    assert again_a is first_a
    assert inner.calls == [A, B], "tenant B must get its own query, never A's figures"
    assert first_b is not first_a


async def test_after_the_ttl_the_next_caller_queries_again() -> None:
    inner = CountingReader()
    cache = CachedDashboardReader(inner, ttl=0.05)
    await cache.summary(A, 5)
    await asyncio.sleep(0.08)

    fresh = await cache.summary(A, 5)

    assert fresh.customers == 2 and len(inner.calls) == 2


async def test_a_ttl_of_zero_queries_every_time() -> None:
    inner = CountingReader()
    cache = CachedDashboardReader(inner, ttl=0)
    for _ in range(3):
        await cache.summary(A, 5)
    assert len(inner.calls) == 3


async def test_a_failure_reaches_every_waiting_caller_and_is_not_cached() -> None:
    inner = CountingReader()
    inner.fail = True
    inner.release.clear()
    cache = CachedDashboardReader(inner, ttl=60)
    callers = [asyncio.create_task(cache.summary(A, 5)) for _ in range(3)]
    await asyncio.sleep(0)
    inner.release.set()

    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)

    inner.fail = False
    assert (await cache.summary(A, 5)).customers == 2, "the failure must not be remembered"


async def test_a_caller_that_gives_up_does_not_cancel_the_shared_query() -> None:
    inner = CountingReader()
    inner.release.clear()
    cache = CachedDashboardReader(inner, ttl=60)
    impatient = asyncio.create_task(cache.summary(A, 5))
    patient = asyncio.create_task(cache.summary(A, 5))
    await asyncio.sleep(0)

    impatient.cancel()
    await asyncio.sleep(0)
    inner.release.set()

    assert (await patient).customers == 1
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert len(inner.calls) == 1


class TripCountingReader(CountingReader):
    """Also charges the current request two round trips, as the real reader's query would."""

    async def summary(self, tenant_id: uuid.UUID, low_stock_threshold: int) -> Dashboard:
        stats = current_stats.get()
        assert stats is not None, "the shared query runs with accounting of its own"
        stats.round_trips += 2
        return await super().summary(tenant_id, low_stock_threshold)


async def test_the_caller_that_starts_the_query_is_charged_its_round_trips_and_joiners_none() -> (
    None
):
    inner = TripCountingReader()
    inner.release.clear()
    cache = CachedDashboardReader(inner, ttl=60)

    async def caller() -> int:
        stats = begin_request()
        await cache.summary(A, 5)
        return stats.round_trips

    starter = asyncio.create_task(caller())
    await asyncio.sleep(0)
    joiners = [asyncio.create_task(caller()) for _ in range(3)]
    await asyncio.sleep(0)
    inner.release.set()

    assert await starter == 2
    assert await asyncio.gather(*joiners) == [0, 0, 0]
    assert await asyncio.create_task(caller()) == 0  # answered from the cache


async def test_with_a_stamp_a_summary_is_reused_only_under_the_versions_it_was_made_with() -> None:
    inner = CountingReader()
    stamps = {A: (1,)}
    cache = CachedDashboardReader(inner, ttl=60, stamp=stamps.__getitem__)
    first = await cache.summary(A, 5)
    assert await cache.summary(A, 5) is first
    stamps[A] = (2,)  # a write heard
    assert (await cache.summary(A, 5)).customers == 2
    assert len(inner.calls) == 2
