"""Webhook endpoints: where a tenant's events are pushed, signed per Standard Webhooks 1.0.

The secret (`whsec_` + base64 of 24 random bytes) is shown once, when the endpoint is
created; it is kept only sealed (encrypted), since the deliverer needs the key itself to sign.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

from domain.errors import InvalidInput

SECRET_PREFIX = "whsec_"
DELIVERY_OUTCOMES = ("succeeded", "failed", "pending")


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: UUID
    url: str
    description: str | None
    event_types: list[str]  # empty: every type
    enabled: bool
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What a client asks for when it registers an endpoint."""

    url: str
    event_types: tuple[str, ...] = ()  # empty: every type
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NewWebhookEndpoint:
    id: UUID
    url: str
    description: str | None
    event_types: tuple[str, ...]
    sealed_secret: bytes


@dataclass(frozen=True, slots=True)
class EndpointChanges:
    url: str | None = None
    description: str | None = None
    event_types: tuple[str, ...] | None = None
    enabled: bool | None = None

    def is_empty(self) -> bool:
        return self == EndpointChanges()


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    endpoint: WebhookEndpoint
    secret: str  # in this answer only


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One attempt to send one event to one endpoint (or a resend still to be made)."""

    id: UUID
    event_id: UUID
    event_type: str
    attempt: int
    outcome: str
    status_code: int | None
    duration_ms: int | None
    error: str | None
    next_retry_at: datetime | None
    created_at: datetime


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for (Standard Webhooks: base64 after the prefix)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def check_url_shape(url: str) -> str:
    """An absolute http(s) URL with a host; where it points is checked by the UrlGuard port."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("bad webhook URL", {"url": ["must be an absolute http(s) URL"]})
    if parts.username or parts.password:
        raise InvalidInput("bad webhook URL", {"url": ["must not carry credentials"]})
    return url
