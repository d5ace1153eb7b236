"""Tenants, users and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

Role = Literal["admin", "sales"]
ROLES: tuple[Role, ...] = ("admin", "sales")


@dataclass(frozen=True, slots=True)
class Tenant:
    id: UUID
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user through a session, or a service through an API key."""

    tenant_id: UUID
    role: Role
    user_id: UUID | None = None
    api_key_id: UUID | None = None
    session_id: bytes | None = None
    email: str | None = None
    name: str | None = None
    # When the session or API key stops being valid (None: an API key that never expires).
    # A cached principal is refused once this has passed, without asking the database.
    expires_at: datetime | None = None

    @classmethod
    def operator(cls, tenant_id: UUID) -> Principal:
        """The operator at the command line, acting as an admin of the tenant."""
        return cls(tenant_id, "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def subject(self) -> str:
        """A loggable identifier that is never a secret."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.api_key_id is not None:
            return f"api-key:{self.api_key_id}"
        return "operator"


@dataclass(frozen=True, slots=True)
class UserCredentials:
    id: UUID
    email: str
    name: str
    role: Role
    password_hash: str


@dataclass(frozen=True, slots=True)
class NewSession:
    id: bytes  # SHA-256 of the token; the token itself is never stored
    tenant_id: UUID
    user_id: UUID
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    expires_at: datetime
    user: UserCredentials


@dataclass(frozen=True, slots=True)
class Credentials:
    email: str
    password: str = field(repr=False)  # never in a log line or a traceback


@dataclass(frozen=True, slots=True)
class ApiKeyRequest:
    """What an admin asks for when creating a key; the service makes the secret."""

    name: str
    role: Role
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    id: UUID
    tenant_id: UUID
    name: str
    role: Role
    key_hash: bytes
    expires_at: datetime | None = None
    created_by_user_id: UUID | None = None
    created_by_key_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as its tenant's admins see it: never the secret, nor its hash."""

    id: UUID
    name: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    # Its creator: a user, or the key that minted it (both None: an operator, or older keys).
    created_by_user_id: UUID | None = field(
        default=None, metadata={"description": "The user who created it"}
    )
    created_by_key_id: UUID | None = field(
        default=None, metadata={"description": "The API key that minted it"}
    )


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A key just created: the only time its secret is seen."""

    key: str
    api_key: ApiKey
