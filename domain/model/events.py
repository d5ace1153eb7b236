"""The change feed: what happened in a tenant, one event per fact, in commit order.

An event's `data` is the resource exactly as the API answers it; the feed hands out events
after an opaque cursor (a position in the tenant's feed), never skipping or repeating one.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import InvalidInput

EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "product.created",
    "product.updated",
    "product.stock_adjusted",
    "order.placed",
    "order.cancelled",
    "invoice.issued",
    "invoice.paid",
    "api_key.created",
    "api_key.revoked",
    "webhook_endpoint.disabled",
)

MAX_WAIT_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Event:
    id: UUID
    type: str
    occurred_at: datetime
    data_json: str  # the resource as the API answered it, as JSON text (sent on as it is)
    position: int = 0  # where it stands in its tenant's feed (not shown: the cursor says it)


@dataclass(frozen=True, slots=True)
class FeedQuery:
    after: int | None = None  # None: from the oldest event kept
    types: tuple[str, ...] = ()  # empty: every type
    limit: int = 100


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """What a client asks of the feed: after which cursor, which types, how many, how long
    to wait for the first new event."""

    after: str | None = None  # None: from the oldest event kept
    types: tuple[str, ...] = ()  # empty: every type
    limit: int = 100
    wait: float = 0


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[Event]
    next: str  # the cursor to walk on from; the same one again when nothing was new


@dataclass(frozen=True, slots=True)
class FeedSlice:
    """What one read of the feed found: the events, and where the tenant's feed stands."""

    items: list[Event]
    last_position: int  # the newest committed position (0: nothing yet)
    purged_through: int  # events at or before this position are gone (retention)


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"ev1:{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, position = raw.partition(":")
        if tag != "ev1" or not position.isdigit() or len(position) > 18:
            raise ValueError(raw)
        return int(position)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidInput("cursor is not valid", {"after": ["not a valid cursor"]}) from exc


def check_types(types: tuple[str, ...]) -> tuple[str, ...]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(
            "unknown event type", {"types": [f"unknown event type: {t}" for t in unknown]}
        )
    return types
