"""Keyset pagination: a page of items and the opaque cursor to the next one."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from domain.errors import InvalidInput

T = TypeVar("T")
F = TypeVar("F")


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int = 20
    after: Keyset | None = None


@dataclass(frozen=True, slots=True)
class Listing(Generic[F]):
    """A list request: which page (`limit`, the opaque `cursor`) and which items (`where`)."""

    where: F
    limit: int = 20
    cursor: str | None = None

    @property
    def page(self) -> PageRequest:
        return PageRequest(self.limit, Keyset.decode(self.cursor) if self.cursor else None)


@dataclass(frozen=True, slots=True)
class Keyset:
    """Position after the last item seen: newest first, ties broken by id."""

    created_at: datetime
    id: UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str) -> Keyset:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            created, ident = json.loads(base64.urlsafe_b64decode(padded))
            return cls(datetime.fromisoformat(created), UUID(ident))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise InvalidInput("cursor is not valid", {"cursor": ["not a valid cursor"]}) from exc


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
