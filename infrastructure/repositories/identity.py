"""Tenants, users, sessions and API keys: the reads behind tenant resolution and auth."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

import sqlalchemy as sa

from domain.model.identity import NewApiKey, NewSession, Principal, Tenant, UserCredentials
from infrastructure.db.reads import GlobalReads, TenantReads
from infrastructure.db.sql import sql
from infrastructure.db.tables import api_keys, sessions, tenants, users
from infrastructure.db.writes import TenantWrites

_tenant_by_slug = sql(
    sa.select(tenants.c.id, tenants.c.slug, tenants.c.name).where(
        tenants.c.slug == sa.bindparam("slug")
    ),
)

# One statement per token kind; each is the request's only auth round trip.
_session_principal = sql(
    sa.select(users.c.id, users.c.role, users.c.email, users.c.name)
    .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
    .where(
        sessions.c.id == sa.bindparam("sid"),
        sessions.c.tenant_id == sa.bindparam("tenant_id"),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > sa.func.now(),
    ),
)

_api_key_principal = sql(
    sa.select(api_keys.c.id, api_keys.c.role).where(
        api_keys.c.key_hash == sa.bindparam("key_hash"),
        api_keys.c.tenant_id == sa.bindparam("tenant_id"),
        api_keys.c.revoked_at.is_(None),
    ),
)

_credentials = sql(
    sa.select(users.c.id, users.c.email, users.c.name, users.c.role, users.c.password_hash).where(
        users.c.tenant_id == sa.bindparam("tenant_id"), users.c.email == sa.bindparam("email")
    ),
)


class TenantSource(Protocol):
    async def by_slug(self, slug: str) -> Tenant | None: ...


class TenantRepository:
    def __init__(self, reads: GlobalReads) -> None:
        self._reads = reads

    async def by_slug(self, slug: str) -> Tenant | None:
        row = await self._reads.fetch_one(_tenant_by_slug, {"slug": slug})
        return Tenant(*row) if row else None


class CachedTenantDirectory:
    """slug -> tenant with a TTL, so a warm request spends no round trip on the tenant.

    Unknown slugs are cached too (for a shorter time), so repeating one costs nothing. The
    cache is bounded and evicts the least recently used slug: a flood of new bogus slugs
    pushes out only the coldest entries, never the tenants in use (it used to be cleared
    wholesale). Limiting how many new slugs one address may try is the edge's job.
    """

    def __init__(
        self,
        inner: TenantSource,
        ttl: float,
        miss_ttl: float = 5.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._ttl = ttl
        self._miss_ttl = miss_ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Tenant | None]] = OrderedDict()

    def cached(self, slug: str) -> tuple[bool, Tenant | None]:
        """(True, tenant or None) when the cache can answer without a round trip."""
        hit = self._entries.get(slug)
        if hit is None or hit[0] <= self._clock():
            return False, None
        self._entries.move_to_end(slug)
        return True, hit[1]

    async def by_slug(self, slug: str) -> Tenant | None:
        known, tenant = self.cached(slug)
        if known:
            return tenant
        tenant = await self._inner.by_slug(slug)
        expires = self._clock() + (self._ttl if tenant else self._miss_ttl)
        self._entries[slug] = (expires, tenant)
        self._entries.move_to_end(slug)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return tenant


class IdentityReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def principal_for_session(self, tenant_id: UUID, session_id: bytes) -> Principal | None:
        row = await self._reads.fetch_one(tenant_id, _session_principal, {"sid": session_id})
        if row is None:
            return None
        user_id, role, email, name = row
        return Principal(
            tenant_id, role, user_id=user_id, session_id=session_id, email=email, name=name
        )

    async def principal_for_api_key(self, tenant_id: UUID, key_hash: bytes) -> Principal | None:
        row = await self._reads.fetch_one(tenant_id, _api_key_principal, {"key_hash": key_hash})
        return Principal(tenant_id, row[1], api_key_id=row[0]) if row else None

    async def credentials(self, tenant_id: UUID, email: str) -> UserCredentials | None:
        row = await self._reads.fetch_one(tenant_id, _credentials, {"email": email})
        return UserCredentials(*row) if row else None


_insert_session = sql(
    sa.insert(sessions).values(
        id=sa.bindparam("id"),
        tenant_id=sa.bindparam("tenant_id"),
        user_id=sa.bindparam("user_id"),
        expires_at=sa.bindparam("expires_at"),
    ),
)
_revoke_session = sql(
    sa.update(sessions)
    .where(sessions.c.id == sa.bindparam("sid"), sessions.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("at")),
)
_insert_api_key = sql(
    sa.insert(api_keys).values(
        id=sa.bindparam("id"),
        tenant_id=sa.bindparam("tenant_id"),
        name=sa.bindparam("name"),
        role=sa.bindparam("role"),
        key_hash=sa.bindparam("key_hash"),
    ),
)


class SessionWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def add(self, session: NewSession) -> None:
        await self._writes.execute(
            _insert_session,
            {
                "id": session.id,
                "user_id": session.user_id,
                "expires_at": session.expires_at,
            },
        )

    async def revoke(self, session_id: bytes, at: datetime) -> None:
        await self._writes.execute(_revoke_session, {"sid": session_id, "at": at})


class ApiKeyWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def add(self, key: NewApiKey) -> None:
        await self._writes.execute(
            _insert_api_key,
            {
                "id": key.id,
                "name": key.name,
                "role": key.role,
                "key_hash": key.key_hash,
            },
        )
