"""The principal cache on fakes: what it answers, what it refuses, and what it never keeps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.model.identity import NewSession, Principal, Role, UserCredentials
from infrastructure.db.stats import begin_request
from infrastructure.repositories.identity_cache import CachedIdentityReader, PrincipalCache
from tests.unit.fakes import FakeIdentityReader, FixedClock, Store

TENANT = uuid4()


class Clock:
    """Wall-clock seconds the test moves by hand; the fake reader reads the same time."""

    def __init__(self) -> None:
        self.fixed = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))

    def __call__(self) -> float:
        return self.fixed.now().timestamp()

    def advance(self, seconds: float) -> None:
        self.fixed.advance(timedelta(seconds=seconds))


class World:
    def __init__(self, ttl: float = 60, size: int = 100) -> None:
        self.clock = Clock()
        self.store = Store()
        self.inner = FakeIdentityReader(self.store, self.clock.fixed)
        self.cache = PrincipalCache(ttl, size, clock=self.clock)
        self.reader = CachedIdentityReader(self.inner, self.cache)

    def user(self, role: Role = "admin", tenant: UUID = TENANT) -> UserCredentials:
        user = UserCredentials(uuid4(), f"{uuid4().hex[:6]}@x.test", "U", role, "h")
        self.store.users[(tenant, user.email)] = user
        return user

    def session(self, user: UserCredentials, lasts: float = 3600, tenant: UUID = TENANT) -> bytes:
        digest = uuid4().bytes * 2
        expires = self.clock.fixed.now() + timedelta(seconds=lasts)
        self.store.sessions[digest] = NewSession(digest, tenant, user.id, expires)
        return digest

    async def who(self, digest: bytes, tenant: UUID = TENANT) -> Principal | None:
        return await self.reader.principal_for_session(tenant, digest)

    @property
    def lookups(self) -> int:
        return len(self.inner.calls)


@pytest.fixture
def world() -> World:
    w = World()
    w.cache.resume()  # as the listener does once it hears
    return w


async def test_a_warm_token_is_answered_without_a_lookup(world: World) -> None:
    digest = world.session(world.user())
    first, second = await world.who(digest), await world.who(digest)
    assert first == second and first is not None
    assert world.lookups == 1
    assert (world.cache.hits, world.cache.misses) == (1, 1)


async def test_the_outcome_is_noted_on_the_request_stats(world: World) -> None:
    digest = world.session(world.user())
    outcomes = []
    for _ in range(2):
        stats = begin_request()
        await world.who(digest)
        outcomes.append(stats.auth_cache)
    assert outcomes == ["miss", "hit"]


async def test_a_refusal_is_never_remembered(world: World) -> None:
    unknown = b"\x01" * 32
    assert await world.who(unknown) is None
    assert await world.who(unknown) is None
    assert world.lookups == 2


async def test_an_expired_session_is_refused_from_the_cache_without_a_lookup(world: World) -> None:
    digest = world.session(world.user(), lasts=10)
    assert await world.who(digest) is not None
    world.clock.advance(11)
    stats = begin_request()
    assert await world.who(digest) is None
    assert world.lookups == 1 and stats.auth_cache == "expired"


async def test_past_the_ttl_the_database_is_asked_again(world: World) -> None:
    digest = world.session(world.user())
    await world.who(digest)
    world.clock.advance(61)
    assert await world.who(digest) is not None
    assert world.lookups == 2


async def test_a_session_notification_drops_that_session_only(world: World) -> None:
    user = world.user()
    kept, dropped = world.session(user), world.session(user)
    await world.who(kept), await world.who(dropped)
    world.cache.apply(f"session:{TENANT}:{dropped.hex()}")
    await world.who(kept), await world.who(dropped)
    assert world.lookups == 3
    assert world.cache.invalidations["session"] == 1


async def test_a_user_notification_drops_every_session_of_that_user_in_that_tenant(
    world: World,
) -> None:
    user, other = world.user(), world.user()
    a, b, c = world.session(user), world.session(user), world.session(other)
    for digest in (a, b, c):
        await world.who(digest)
    world.cache.apply(f"user:{uuid4()}:{user.id}")  # another tenant: nothing of ours
    assert len(world.cache) == 3
    world.cache.apply(f"user:{TENANT}:{user.id}")
    assert len(world.cache) == 1


@pytest.mark.parametrize("payload", ["all", "something-newer:1", "session:not-a-uuid:zz"])
async def test_all_and_anything_unreadable_empty_the_cache(world: World, payload: str) -> None:
    await world.who(world.session(world.user()))
    world.cache.apply(payload)
    assert len(world.cache) == 0


async def test_the_listeners_probe_changes_nothing(world: World) -> None:
    await world.who(world.session(world.user()))
    generation = world.cache.generation
    world.cache.apply("probe:0123")
    assert len(world.cache) == 1 and world.cache.generation == generation


async def test_a_lookup_that_raced_an_invalidation_is_not_remembered(world: World) -> None:
    digest = world.session(world.user())
    answered = asyncio.Event()
    inner = world.inner.principal_for_session

    async def slow(tenant_id: UUID, session_id: bytes) -> Principal | None:
        principal = await inner(tenant_id, session_id)
        await answered.wait()  # the row was read; the revocation lands before we return
        return principal

    world.inner.principal_for_session = slow  # type: ignore[method-assign]
    lookup = asyncio.create_task(world.who(digest))
    await asyncio.sleep(0)
    world.cache.apply(f"session:{TENANT}:{digest.hex()}")
    answered.set()
    assert await lookup is not None  # this request saw it valid, as the database did
    assert len(world.cache) == 0  # but nobody after it is answered from that read


async def test_while_not_listening_every_token_is_looked_up_and_nothing_kept(world: World) -> None:
    digest = world.session(world.user())
    await world.who(digest)
    world.cache.suspend()
    assert len(world.cache) == 0
    stats = begin_request()
    await world.who(digest), await world.who(digest)
    assert world.lookups == 3 and len(world.cache) == 0
    assert stats.auth_cache == "bypass" and world.cache.bypassed == 2
    world.cache.resume()
    await world.who(digest), await world.who(digest)
    assert world.lookups == 4


async def test_a_ttl_of_zero_turns_the_cache_off() -> None:
    world = World(ttl=0)
    world.cache.resume()
    digest = world.session(world.user())
    stats = begin_request()
    await world.who(digest), await world.who(digest)
    assert world.lookups == 2 and stats.auth_cache == "off" and world.cache.bypassed == 0


async def test_the_least_recently_used_entry_goes_first() -> None:
    world = World(size=2)
    world.cache.resume()
    user = world.user()
    a, b, c = world.session(user), world.session(user), world.session(user)
    await world.who(a), await world.who(b), await world.who(a)  # b is now the oldest
    await world.who(c)
    assert world.lookups == 3
    await world.who(a), await world.who(c)
    assert world.lookups == 3
    await world.who(b)
    assert world.lookups == 4


async def test_the_same_token_under_another_tenant_is_not_answered_from_the_cache(
    world: World,
) -> None:
    digest = world.session(world.user())
    await world.who(digest)
    assert await world.who(digest, tenant=uuid4()) is None
    assert world.lookups == 2


async def test_forget_drops_the_entry_at_once(world: World) -> None:
    digest = world.session(world.user())
    await world.who(digest)
    world.reader.forget(TENANT, digest)
    await world.who(digest)
    assert world.lookups == 2 and world.cache.invalidations["logout"] == 1


async def test_remembered_answers_a_warm_token_and_never_looks_one_up(world: World) -> None:
    digest = world.session(world.user())
    assert world.reader.remembered(TENANT, digest) is None  # cold: the caller looks it up
    assert (world.lookups, world.cache.misses) == (0, 0)
    principal = await world.who(digest)
    assert world.reader.remembered(TENANT, digest) == principal
    world.cache.suspend()
    assert world.reader.remembered(TENANT, digest) is None  # not listening: never trusted
    assert world.lookups == 1
