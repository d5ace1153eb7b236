"""Customers of a tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Customer:
    id: UUID
    name: str
    email: str
    phone: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewCustomer:
    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerChanges:
    """Fields a PATCH may set; None means 'leave as is' except for phone (see clear_phone)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    clear_phone: bool = False

    def is_empty(self) -> bool:
        return (
            self.name is None and self.email is None and self.phone is None and not self.clear_phone
        )
