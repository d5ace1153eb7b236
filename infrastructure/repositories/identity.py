"""Tenants, users, sessions and API keys: the reads behind tenant resolution and auth."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import sqlalchemy as sa

from domain.model.identity import (
    ApiKey,
    NewApiKey,
    NewSession,
    Principal,
    Tenant,
    UserCredentials,
)
from domain.model.paging import Page, PageRequest
from infrastructure.db.reads import GlobalReads, TenantReads
from infrastructure.db.sql import Sql, raw, sql
from infrastructure.db.tables import api_keys, sessions, tenants, users
from infrastructure.db.writes import TenantWrites
from infrastructure.repositories.paging import after, page_params, to_page

_tenant_by_slug = sql(
    sa.select(tenants.c.id, tenants.c.slug, tenants.c.name).where(
        tenants.c.slug == sa.bindparam("slug")
    ),
)
_tenant_by_id = sql(
    sa.select(tenants.c.id, tenants.c.slug, tenants.c.name).where(
        tenants.c.id == sa.bindparam("id")
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
_API_KEY_COLUMNS = (
    api_keys.c.id,
    api_keys.c.name,
    api_keys.c.role,
    api_keys.c.created_at,
    api_keys.c.expires_at,
    api_keys.c.last_used_at,
    api_keys.c.revoked_at,
    api_keys.c.created_by_user_id,
    api_keys.c.created_by_key_id,
)


def _api_key_page(with_after: bool) -> Sql:
    conditions = [api_keys.c.tenant_id == sa.bindparam("tenant_id")]
    if with_after:
        conditions.append(after(api_keys.c.created_at, api_keys.c.id))
    return sql(
        sa.select(*_API_KEY_COLUMNS)
        .where(*conditions)
        .order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
        .limit(sa.bindparam("limit"))
    )


_api_key_pages = {a: _api_key_page(a) for a in (False, True)}

_credentials = sql(
    sa.select(users.c.id, users.c.email, users.c.name, users.c.role, users.c.password_hash).where(
        users.c.tenant_id == sa.bindparam("tenant_id"), users.c.email == sa.bindparam("email")
    ),
)


class TenantSource(Protocol):
    async def by_slug(self, slug: str) -> Tenant | None: ...

    async def by_id(self, tenant_id: UUID) -> Tenant | None: ...


class TenantRepository:
    def __init__(self, reads: GlobalReads) -> None:
        self._reads = reads

    async def by_slug(self, slug: str) -> Tenant | None:
        row = await self._reads.fetch_one(_tenant_by_slug, {"slug": slug})
        return Tenant(*row) if row else None

    async def by_id(self, tenant_id: UUID) -> Tenant | None:
        row = await self._reads.fetch_one(_tenant_by_id, {"id": tenant_id})
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
        return self._cached(slug)

    def cached_id(self, tenant_id: UUID) -> tuple[bool, Tenant | None]:
        return self._cached(_id_key(tenant_id))

    async def by_slug(self, slug: str) -> Tenant | None:
        known, tenant = self._cached(slug)
        if known:
            return tenant
        return self._remember(slug, await self._inner.by_slug(slug))

    async def by_id(self, tenant_id: UUID) -> Tenant | None:
        known, tenant = self.cached_id(tenant_id)
        if known:
            return tenant
        return self._remember(_id_key(tenant_id), await self._inner.by_id(tenant_id))

    def _cached(self, key: str) -> tuple[bool, Tenant | None]:
        hit = self._entries.get(key)
        if hit is None or hit[0] <= self._clock():
            return False, None
        self._entries.move_to_end(key)
        return True, hit[1]

    def _remember(self, key: str, tenant: Tenant | None) -> Tenant | None:
        expires = self._clock() + (self._ttl if tenant else self._miss_ttl)
        self._entries[key] = (expires, tenant)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return tenant


def _id_key(tenant_id: UUID) -> str:
    return f"#{tenant_id}"  # never a slug: slugs start with a letter or digit


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

    def remembered(self, tenant_id: UUID, token_digest: bytes) -> Principal | None:
        return None  # nothing remembered: every call asks the database

    async def api_keys(self, tenant_id: UUID, page: PageRequest) -> Page[ApiKey]:
        stmt = _api_key_pages[page.after is not None]
        rows = await self._reads.fetch_all(tenant_id, stmt, page_params(page))
        return to_page(rows, page, _api_key, lambda k: (k.created_at, k.id))


def _api_key(row: Any) -> ApiKey:
    return ApiKey(*row)


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
_revoke_sessions_of_user = sql(
    sa.update(sessions)
    .where(
        sessions.c.tenant_id == sa.bindparam("tenant_id"),
        sessions.c.user_id == sa.bindparam("user_id"),
        sessions.c.revoked_at.is_(None),
    )
    .values(revoked_at=sa.bindparam("at"))
    .returning(sessions.c.id),
)
_insert_api_key = sql(
    sa.insert(api_keys)
    .values(
        id=sa.bindparam("id"),
        tenant_id=sa.bindparam("tenant_id"),
        name=sa.bindparam("name"),
        role=sa.bindparam("role"),
        key_hash=sa.bindparam("key_hash"),
        expires_at=sa.bindparam("expires_at"),
        created_by_user_id=sa.bindparam("created_by_user_id"),
        created_by_key_id=sa.bindparam("created_by_key_id"),
    )
    .returning(*_API_KEY_COLUMNS),
)
_of_key = (api_keys.c.tenant_id == sa.bindparam("tenant_id"), api_keys.c.id == sa.bindparam("id"))
_revoke_api_key = sql(
    sa.update(api_keys)
    .where(*_of_key)
    .values(revoked_at=sa.func.coalesce(api_keys.c.revoked_at, sa.bindparam("at")))
    .returning(api_keys.c.id),
)
# Only last_used_at changes, which migration 0006's trigger ignores: no cache is told. The
# writer (infrastructure/key_uses.py) keeps a batch under the trigger's 1,000-row "all" bound.
_record_uses = raw(
    "update api_keys k set last_used_at = greatest(k.last_used_at, u.at)"
    " from unnest(%(ids)s::uuid[], %(ats)s::timestamptz[]) as u(id, at)"
    " where k.tenant_id = %(tenant_id)s and k.id = u.id",
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

    async def revoke_all_of_user(self, user_id: UUID, at: datetime) -> int:
        rows = await self._writes.execute(_revoke_sessions_of_user, {"user_id": user_id, "at": at})
        return len(rows)


class ApiKeyWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def add(self, key: NewApiKey) -> ApiKey:
        rows = await self._writes.execute(
            _insert_api_key,
            {
                "id": key.id,
                "name": key.name,
                "role": key.role,
                "key_hash": key.key_hash,
                "expires_at": key.expires_at,
                "created_by_user_id": key.created_by_user_id,
                "created_by_key_id": key.created_by_key_id,
            },
        )
        return _api_key(rows[0])

    async def revoke(self, key_id: UUID, at: datetime) -> bool:
        return bool(await self._writes.execute(_revoke_api_key, {"id": key_id, "at": at}))

    async def record_uses(self, uses: Sequence[tuple[UUID, datetime]]) -> None:
        ids, ats = [u[0] for u in uses], [u[1] for u in uses]
        await self._writes.execute(_record_uses, {"ids": ids, "ats": ats})
