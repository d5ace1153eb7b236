"""The numbers a sales person sees first."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID


@dataclass(frozen=True, slots=True)
class LowStockItem:
    id: UUID
    sku: str
    name: str
    stock: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    customers: int
    products: int
    low_stock: list[LowStockItem]
    orders_placed: int
    orders_cancelled: int
    revenue_today: Decimal
    revenue_30d: Decimal
    revenue_total: Decimal
    open_invoices: int
    open_invoices_amount: Decimal
    currency: str
