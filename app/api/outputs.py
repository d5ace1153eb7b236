"""Answers that are not a domain type as it is: what the API shows of a login, of the caller
and of a key just created. Their schemas are made from these (app/api/schemas/answers.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from uuid import UUID

import orjson

from domain.model.events import FeedPage
from domain.model.identity import ApiKey, IssuedApiKey, LoginResult, Principal, Role, Tenant
from domain.model.webhooks import CreatedWebhook, WebhookEndpoint


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

    key: str = field(default="", metadata={"description": "The secret: shown in this answer only"})

    @classmethod
    def of(cls, issued: IssuedApiKey) -> CreatedApiKey:
        return cls(
            **{f.name: getattr(issued.api_key, f.name) for f in fields(ApiKey)}, key=issued.key
        )


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: UUID
    type: str
    occurred_at: datetime
    # Stored as the API answered it, and sent on as those very bytes.
    data: orjson.Fragment = field(metadata={"description": "The resource as the API answers it"})


@dataclass(frozen=True, slots=True)
class FeedAnswer:
    """One page of the change feed (docs/events.md)."""

    items: list[FeedItem]
    next: str = field(metadata={"description": "The cursor to walk on from"})

    @classmethod
    def of(cls, page: FeedPage) -> FeedAnswer:
        items = [
            FeedItem(e.id, e.type, e.occurred_at, orjson.Fragment(e.data_json)) for e in page.items
        ]
        return cls(items, page.next)


@dataclass(frozen=True, slots=True)
class CreatedWebhookEndpoint(WebhookEndpoint):
    """An endpoint just created: its fields, and its signing secret, in this answer only; an
    `id`, so the row's `Location` applies."""

    secret: str = field(
        default="",
        metadata={"description": "whsec_...: the signing secret, in this answer only"},
    )

    @classmethod
    def of(cls, created: CreatedWebhook) -> CreatedWebhookEndpoint:
        endpoint = created.endpoint
        return cls(
            **{f.name: getattr(endpoint, f.name) for f in fields(WebhookEndpoint)},
            secret=created.secret,
        )
