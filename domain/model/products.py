"""Products and their stock. Stock changes only through movements (orders, cancels, adjustments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

MovementReason = Literal["order", "cancel", "adjustment"]


@dataclass(frozen=True, slots=True)
class Product:
    id: UUID
    sku: str
    name: str
    unit_price: Decimal
    stock: int
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewProduct:
    sku: str
    name: str
    unit_price: Decimal
    stock: int = 0
    active: bool = True


@dataclass(frozen=True, slots=True)
class ProductChanges:
    name: str | None = None
    unit_price: Decimal | None = None
    active: bool | None = None

    def is_empty(self) -> bool:
        return self.name is None and self.unit_price is None and self.active is None


@dataclass(frozen=True, slots=True)
class Movement:
    product_id: UUID
    delta: int
    reason: MovementReason
    order_id: UUID | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StockChange:
    """A manual stock correction: by how much (signed), and why."""

    delta: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StockAdjustment:
    product_id: UUID
    delta: int
    stock: int  # after the adjustment
    note: str | None
