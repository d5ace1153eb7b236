"""Tenants, users, sessions and API keys: the reads behind tenant resolution and auth."""

from __future__ import annotations

import time
from datetime import datetime
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
    sa.select(users.c.id, users.c.role, users.c.email, users.c.name, sessions.c.expires_at)
    .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
    .where(
        sessions.c.id == sa.bindparam("sid"),
        sessions.c.tenant_id == sa.bindparam("tenant_id"),
        sessions.c.revoked_at.is_(None),
        sessions.c.expires_at > sa.func.now(),
    ),
)

_api_key_principal = sql(
    sa.select(api_keys.c.id, api_keys.c.role, api_keys.c.expires_at).where(
        api_keys.c.key_hash == sa.bindparam("key_hash"),
        api_keys.c.tenant_id == sa.bindparam("tenant_id"),
        api_keys.c.revoked_at.is_(None),
        sa.or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > sa.func.now()),
    ),
)

_credentials = sql(
    sa.select(users.c.id, users.c.email, users.c.name, users.c.role, users.c.password_hash).where(
        users.c.tenant_id == sa.bindparam("tenant_id"), users.c.email == sa.bindparam("email")
    ),
)


class TenantRepository:
    def __init__(self, reads: GlobalReads) -> None:
        self._reads = reads

    async def by_slug(self, slug: str) -> Tenant | None:
        row = await self._reads.fetch_one(_tenant_by_slug, {"slug": slug})
        return Tenant(*row) if row else None


class CachedTenantDirectory:
    """slug -> tenant with a TTL, so a warm request spends no round trip on the tenant.

    Unknown slugs are cached too (for a shorter time) so a flood of bogus hosts cannot turn
    into a flood of queries.
    """

    def __init__(self, inner: TenantRepository, ttl: float, miss_ttl: float = 5.0) -> None:
        self._inner = inner
        self._ttl = ttl
        self._miss_ttl = miss_ttl
        self._entries: dict[str, tuple[float, Tenant | None]] = {}

    async def by_slug(self, slug: str) -> Tenant | None:
        now = time.monotonic()
        hit = self._entries.get(slug)
        if hit is not None and hit[0] > now:
            return hit[1]
        tenant = await self._inner.by_slug(slug)
        if len(self._entries) > 10_000:
            self._entries.clear()  # bounded memory; refills from the hot set at once
        self._entries[slug] = (now + (self._ttl if tenant else self._miss_ttl), tenant)
        return tenant


class IdentityReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def principal_for_session(self, tenant_id: UUID, session_id: bytes) -> Principal | None:
        row = await self._reads.fetch_one(tenant_id, _session_principal, {"sid": session_id})
        if row is None:
            return None
        user_id, role, email, name, expires_at = row
        return Principal(
            tenant_id,
            role,
            user_id=user_id,
            session_id=session_id,
            email=email,
            name=name,
            expires_at=expires_at,
        )

    async def principal_for_api_key(self, tenant_id: UUID, key_hash: bytes) -> Principal | None:
        row = await self._reads.fetch_one(tenant_id, _api_key_principal, {"key_hash": key_hash})
        if row is None:
            return None
        key_id, role, expires_at = row
        return Principal(tenant_id, role, api_key_id=key_id, expires_at=expires_at)

    async def credentials(self, tenant_id: UUID, email: str) -> UserCredentials | None:
        row = await self._reads.fetch_one(tenant_id, _credentials, {"email": email})
        return UserCredentials(*row) if row else None

    def forget(self, tenant_id: UUID, token_digest: bytes) -> None:
        """Nothing to forget: every call asks the database."""


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
