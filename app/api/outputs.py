"""Answers that are not a domain type as it is: what the API shows of a login, of the caller
and of a key just created. Their schemas are made from these (app/api/schemas/answers.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from uuid import UUID

from domain.model.identity import ApiKey, IssuedApiKey, LoginResult, Principal, Role, Tenant


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class LoginAnswer:
    token: str
    expires_at: datetime
    user: User

    @classmethod
    def of(cls, result: LoginResult) -> LoginAnswer:
        u = result.user
        return cls(result.token, result.expires_at, User(u.id, u.email, u.name, u.role))


@dataclass(frozen=True, slots=True)
class Me:
    """The calling principal as the API shows it: never its session id."""

    tenant_id: UUID
    tenant: str
    role: Role
    user_id: UUID | None
    api_key_id: UUID | None
    email: str | None
    name: str | None

    @classmethod
    def of(cls, p: Principal, tenant: Tenant) -> Me:
        return cls(p.tenant_id, tenant.slug, p.role, p.user_id, p.api_key_id, p.email, p.name)


@dataclass(frozen=True, slots=True)
class CreatedApiKey(ApiKey):
    """A key just created: its fields, and the secret, in this answer only."""

    key: str = field(metadata={"description": "The secret: shown in this answer only"})

    @classmethod
    def of(cls, issued: IssuedApiKey) -> CreatedApiKey:
        return cls(
            **{f.name: getattr(issued.api_key, f.name) for f in fields(ApiKey)}, key=issued.key
        )
