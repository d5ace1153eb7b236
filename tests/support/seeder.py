"""Test data written straight into PostgreSQL as the owner role, each call with unique values.

Sync psycopg2 on purpose: fixtures are set-up, not the code under test, and the owner role is
what the service itself never uses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
from argon2 import PasswordHasher

from domain.model import tokens

PASSWORD = "correct horse battery staple"
# Cheap parameters keep fixtures fast; the service verifies any argon2 hash it is given.
_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


@dataclass
class SeededUser:
    id: uuid.UUID
    email: str
    role: str


@dataclass
class SeededTenant:
    id: uuid.UUID
    slug: str
    users: dict[str, SeededUser] = field(default_factory=dict)


class Seeder:
    def __init__(self, owner_url: str) -> None:
        self.conn = psycopg2.connect(owner_url)
        self.conn.autocommit = True

    def close(self) -> None:
        self.conn.close()

    def run(
        self, tenant_id: uuid.UUID | None, sql: str, params: Any = None
    ) -> list[tuple[Any, ...]]:
        """One transaction, acting as the tenant when given (RLS is forced on the owner too)."""
        with self.conn.cursor() as cur:
            cur.execute("begin")
            try:
                if tenant_id is not None:
                    cur.execute("select set_config('app.tenant_id', %s, true)", (str(tenant_id),))
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description else []
                cur.execute("commit")
            except BaseException:
                cur.execute("rollback")
                raise
        return rows

    def tenant(self, prefix: str = "t") -> SeededTenant:
        slug = f"{prefix}-{uuid.uuid4().hex[:12]}"
        (row,) = self.run(
            None, "insert into tenants (slug, name) values (%s, %s) returning id", (slug, slug)
        )
        tenant = SeededTenant(row[0], slug)
        tenant.users["admin"] = self.user(tenant, "admin")
        tenant.users["sales"] = self.user(tenant, "sales")
        return tenant

    def user(self, tenant: SeededTenant, role: str) -> SeededUser:
        email = f"{role}-{uuid.uuid4().hex[:8]}@{tenant.slug}.test"
        (row,) = self.run(
            tenant.id,
            "insert into users (tenant_id, email, name, role, password_hash)"
            " values (%s, %s, %s, %s, %s) returning id",
            (str(tenant.id), email, email.split("@")[0], role, _hash),
        )
        return SeededUser(row[0], email, role)

    def session(
        self,
        tenant: SeededTenant,
        user: SeededUser,
        expires_in: timedelta = timedelta(hours=1),
        revoked: bool = False,
    ) -> str:
        token = tokens.new_session_token()
        now = datetime.now(UTC)
        self.run(
            tenant.id,
            "insert into sessions (id, tenant_id, user_id, expires_at, revoked_at) values (%s, %s, %s, %s, %s)",
            (
                tokens.digest(token),
                str(tenant.id),
                str(user.id),
                now + expires_in,
                now if revoked else None,
            ),
        )
        return token

    def api_key(
        self,
        tenant: SeededTenant,
        role: str = "sales",
        revoked: bool = False,
        expires_in: timedelta | None = None,
    ) -> str:
        key = tokens.new_api_key(tenant.id)
        expires_at = datetime.now(UTC) + expires_in if expires_in is not None else None
        self.run(
            tenant.id,
            "insert into api_keys (tenant_id, name, role, key_hash, revoked_at, expires_at)"
            " values (%s, %s, %s, %s, case when %s then now() end, %s)",
            (str(tenant.id), "test", role, tokens.digest(key), revoked, expires_at),
        )
        return key

    def customer(self, tenant: SeededTenant, name: str = "Customer") -> uuid.UUID:
        email = f"c-{uuid.uuid4().hex[:10]}@example.test"
        (row,) = self.run(
            tenant.id,
            "insert into customers (tenant_id, name, email) values (%s, %s, %s) returning id",
            (str(tenant.id), name, email),
        )
        return row[0]

    def count(
        self, tenant: SeededTenant, table: str, where: str = "true", params: Any = None
    ) -> int:
        (row,) = self.run(tenant.id, f"select count(*) from {table} where {where}", params)
        return int(row[0])
