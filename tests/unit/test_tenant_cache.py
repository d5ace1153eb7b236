"""The tenant cache: answers from memory, and evicts the least recently used slug."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.model.identity import Tenant
from infrastructure.repositories.identity import CachedTenantDirectory, TenantSource


class CountingSource(TenantSource):
    def __init__(self, *slugs: str) -> None:
        self.tenants = {s: Tenant(uuid4(), s, s) for s in slugs}
        self.lookups: list[str] = []

    async def by_id(self, tenant_id: UUID) -> Tenant | None:
        return next((t for t in self.tenants.values() if t.id == tenant_id), None)

    async def by_slug(self, slug: str) -> Tenant | None:
        self.lookups.append(slug)
        return self.tenants.get(slug)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_flood_of_unknown_slugs_evicts_only_the_coldest_entries() -> None:
    source = CountingSource("acme", "globex")
    cache = CachedTenantDirectory(source, ttl=60, max_entries=3, clock=Clock())
    await cache.by_slug("acme")
    await cache.by_slug("globex")
    for i in range(10):
        await cache.by_slug("acme")  # in use: stays the most recent
        await cache.by_slug(f"bogus-{i}")
    source.lookups.clear()
    found = await cache.by_slug("acme")
    assert found is not None and found.slug == "acme"
    assert source.lookups == [], "the tenant in use was evicted by bogus slugs"
    assert cache.cached("globex") == (False, None), "the coldest entry goes first"


async def test_entries_expire_after_their_ttl_and_misses_sooner() -> None:
    clock = Clock()
    source = CountingSource("acme")
    cache = CachedTenantDirectory(source, ttl=60, miss_ttl=5, clock=clock)
    await cache.by_slug("acme")
    await cache.by_slug("nope")
    clock.now = 10
    assert cache.cached("acme")[0] is True
    assert cache.cached("nope") == (False, None)
    clock.now = 61
    assert cache.cached("acme") == (False, None)
