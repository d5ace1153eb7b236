"""Principals remembered per worker, so a warm request authenticates without a round trip.

Coherent with every revocation: PostgreSQL triggers (migration 0006) notify
`auth_invalidation` on every change that withdraws or alters access, each worker listens on a
dedicated connection (infrastructure/db/listener.py) and `apply` drops what a notification
names. Three rules keep the cache from answering with what the database no longer says:

- a fill never brings back what an invalidation dropped: `generation` counts invalidations,
  and a lookup that saw it change while it ran is not remembered;
- while the listener is not listening the cache is bypassed (fail closed), since
  notifications may be missed meanwhile; what it held is kept aside only to answer a lookup
  that cannot reach the database at all (a primary outage, when nothing can be revoked
  there either), and dropped as soon as the listener listens again;
- an entry is refused once its session or key has expired, and looked up again after the
  TTL, whatever the notifications say.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

from domain.model.identity import ApiKey, Principal, UserCredentials
from domain.model.paging import Page, PageRequest
from domain.ports import IdentityReader
from infrastructure.db.errors import DatabaseUnavailable
from infrastructure.db.stats import current_stats

AUTH_CHANNEL = "auth_invalidation"  # what the migration 0006 triggers notify

_Key = tuple[UUID, bytes]  # tenant, token digest
_Lookup = Callable[[UUID, bytes], Awaitable[Principal | None]]


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    fresh_until: float  # the TTL cap: past it, ask the database again
    valid_until: float  # the session's or key's expiry: past it, refuse


class PrincipalCache:
    """LRU of principals by (tenant, token digest), bounded in size and in age."""

    def __init__(
        self, ttl: float, max_entries: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._held: dict[_Key, _Entry] = {}  # set aside while deaf, for outages only
        self.generation = 0  # bumped by every invalidation, and when listening starts or stops
        self.listening = False  # set by the listener: only then may the cache answer
        self.hits = self.misses = self.expired = self.bypassed = 0
        self.invalidations: Counter[str] = Counter()  # by kind: session, api_key, user, all, …

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    @property
    def serving(self) -> bool:
        return self.listening and self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: _Key) -> bool:
        return key in self._entries

    def recall(self, key: _Key) -> tuple[str, Principal | None]:
        """("hit", principal), ("expired", None): refuse it, or ("miss", None): look it up."""
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return "miss", None
        now = self._clock()
        if now >= entry.valid_until:
            del self._entries[key]
            self.expired += 1
            return "expired", None
        if now >= entry.fresh_until:
            del self._entries[key]
            self.misses += 1
            return "miss", None
        self._entries.move_to_end(key)
        self.hits += 1
        return "hit", entry.principal

    def holds(self, tenant_id: UUID, digest: bytes) -> bool:
        """Whether `recall` would answer this token without a round trip (counts nothing)."""
        entry = self._entries.get((tenant_id, digest)) if self.serving else None
        return entry is not None and self._clock() < min(entry.fresh_until, entry.valid_until)

    def remember(self, key: _Key, principal: Principal, generation: int) -> None:
        """Keep a lookup's answer, unless an invalidation (or a listener outage) came while
        it ran: the answer may predate the change that was just announced."""
        if generation != self.generation or not self.serving:
            return
        expires = principal.expires_at
        valid_until = expires.timestamp() if expires is not None else math.inf
        self._entries[key] = _Entry(principal, self._clock() + self.ttl, valid_until)
        self._entries.move_to_end(key)
        if len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: _Key, kind: str = "logout") -> None:
        self._entries.pop(key, None)
        self._invalidated(kind)

    def apply(self, payload: str) -> None:
        """A notification from the triggers; anything unreadable empties the cache."""
        kind, _, rest = payload.partition(":")
        if kind == "probe":  # the listener checking that it hears: nothing changed
            return
        try:
            if kind in ("session", "api_key"):
                tenant, _, digest = rest.partition(":")
                self._entries.pop((UUID(tenant), bytes.fromhex(digest)), None)
            elif kind == "user":
                tenant, _, user = rest.partition(":")
                self._drop_user(UUID(tenant), UUID(user))
            else:
                kind = "all"
                self._entries.clear()
        except ValueError:
            kind = "all"
            self._entries.clear()
        self._invalidated(kind)

    def resume(self) -> None:
        """The listener listens again: from now on every change reaches `apply`."""
        self.listening = True
        self._held.clear()  # changes made while deaf went unheard
        self.generation += 1  # a lookup that started while deaf is not remembered

    def suspend(self) -> None:
        """The listener stopped listening: changes may go unheard, so remember nothing (what
        was remembered is set aside for `recall_held`)."""
        self.listening = False
        self._held.update(self._entries)
        self._entries.clear()
        self.generation += 1

    def recall_held(self, key: _Key) -> Principal | None:
        """What was remembered before the listener went deaf, for a lookup that could not
        reach the database: refused once its session or key has expired."""
        entry = self._held.get(key)
        if entry is None or self._clock() >= entry.valid_until:
            return None
        return entry.principal

    def _drop_user(self, tenant_id: UUID, user_id: UUID) -> None:
        # A scan, bounded by the cache size: role changes and user deletions are rare.
        gone = [
            key
            for key, entry in self._entries.items()
            if entry.principal.user_id == user_id and entry.principal.tenant_id == tenant_id
        ]
        for key in gone:
            del self._entries[key]

    def _invalidated(self, kind: str) -> None:
        self.generation += 1
        self.invalidations[kind] += 1


class CachedIdentityReader:
    """The IdentityReader port, answered from a PrincipalCache when it can be trusted.

    Each outcome is noted on the request's stats for its `request` event: hit (no round trip),
    miss, expired (refused from the cache), bypass (the listener is down) or off
    (AUTH_CACHE_TTL=0).
    """

    def __init__(self, inner: IdentityReader, cache: PrincipalCache) -> None:
        self._inner = inner
        self._cache = cache

    async def principal_for_session(self, tenant_id: UUID, session_id: bytes) -> Principal | None:
        return await self._principal(tenant_id, session_id, self._inner.principal_for_session)

    async def principal_for_api_key(self, tenant_id: UUID, key_hash: bytes) -> Principal | None:
        return await self._principal(tenant_id, key_hash, self._inner.principal_for_api_key)

    async def credentials(self, tenant_id: UUID, email: str) -> UserCredentials | None:
        return await self._inner.credentials(tenant_id, email)

    async def api_keys(self, tenant_id: UUID, page: PageRequest) -> Page[ApiKey]:
        return await self._inner.api_keys(tenant_id, page)  # a listing is never cached

    def forget(self, tenant_id: UUID, token_digest: bytes) -> None:
        self._cache.forget((tenant_id, token_digest))

    def remembered(self, tenant_id: UUID, token_digest: bytes) -> Principal | None:
        """A hit, or None without counting a miss: the caller then authenticates as usual,
        and that lookup counts."""
        cache = self._cache
        if not cache.serving or (tenant_id, token_digest) not in cache:
            return None
        outcome, principal = cache.recall((tenant_id, token_digest))
        if outcome == "hit":
            _note(outcome)
        return principal

    async def _principal(self, tenant_id: UUID, digest: bytes, lookup: _Lookup) -> Principal | None:
        cache = self._cache
        if not cache.serving:
            if cache.enabled:
                cache.bypassed += 1
            _note("bypass" if cache.enabled else "off")
            try:
                return await lookup(tenant_id, digest)
            except DatabaseUnavailable:
                held = cache.recall_held((tenant_id, digest))
                if held is None:
                    raise
                _note("held")  # the primary is unreachable: warm principals still get in
                return held
        key = (tenant_id, digest)
        outcome, principal = cache.recall(key)
        _note(outcome)
        if outcome != "miss":
            return principal
        generation = cache.generation
        principal = await lookup(tenant_id, digest)
        if principal is not None:  # a refusal is never remembered: no insert is announced
            cache.remember(key, principal, generation)
        return principal


def _note(outcome: str) -> None:
    stats = current_stats.get()
    if stats is not None:
        stats.auth_cache = outcome
