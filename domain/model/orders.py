"""Orders, their lines and invoices, with the rules that govern them.

`plan_order` is the whole placement decision, made on products already locked by the caller:
it either returns exactly what to write or raises, so nothing half-decided reaches the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Literal
from uuid import UUID

from domain.errors import (
    AlreadyPaid,
    InsufficientStock,
    InvalidInput,
    InvalidTransition,
    UnknownReferences,
)
from domain.model.money import money

OrderStatus = Literal["placed", "cancelled"]
InvoiceStatus = Literal["open", "paid", "void"]
MAX_LINES = 100


@dataclass(frozen=True, slots=True)
class LineRequest:
    product_id: UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    customer_id: UUID
    lines: tuple[LineRequest, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class PricedProduct:
    """What placement needs of a product, read under a row lock."""

    id: UUID
    unit_price: Decimal
    stock: int
    active: bool


@dataclass(frozen=True, slots=True)
class PlannedLine:
    product_id: UUID
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True)
class OrderPlan:
    customer_id: UUID
    lines: tuple[PlannedLine, ...]
    total: Decimal
    note: str | None


@dataclass(frozen=True, slots=True)
class OrderLine:
    product_id: UUID
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True, slots=True)
class Invoice:
    id: UUID
    order_id: UUID
    number: str
    amount: Decimal
    currency: str
    status: InvoiceStatus
    issued_at: datetime
    paid_at: datetime | None
    voided_at: datetime | None
    payment_method: str | None = None
    payment_reference: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: UUID
    customer_id: UUID
    status: OrderStatus
    total: Decimal
    currency: str
    note: str | None
    created_at: datetime
    cancelled_at: datetime | None
    lines: tuple[OrderLine, ...]
    invoice: Invoice | None
    cancel_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Why an order is cancelled, as the caller says it (optional)."""

    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    """What the payer says about a payment; both optional, stored with the invoice."""

    method: str | None = None
    reference: str | None = None


def check_lines(command: PlaceOrder) -> None:
    """Shape rules that need no data: at least one line, at most 100, no product twice."""
    if not command.lines:
        raise InvalidInput(
            "an order needs at least one line", {"lines": ["give at least one line"]}
        )
    if len(command.lines) > MAX_LINES:
        raise InvalidInput("too many lines", {"lines": [f"at most {MAX_LINES} lines"]})
    seen: set[UUID] = set()
    duplicates = []
    for line in command.lines:
        if line.product_id in seen:
            duplicates.append(str(line.product_id))
        seen.add(line.product_id)
        if line.quantity <= 0:
            raise InvalidInput("quantities must be positive", {"lines": ["quantity must be > 0"]})
    if duplicates:
        # Refused rather than merged: a product listed twice is almost always a client bug.
        raise InvalidInput(
            "a product appears on more than one line",
            {"lines": [f"product {pid} appears more than once" for pid in duplicates]},
        )


def plan_order(
    command: PlaceOrder, customer_exists: bool, products: Mapping[UUID, PricedProduct]
) -> OrderPlan:
    check_lines(command)
    missing_products = [
        str(line.product_id) for line in command.lines if line.product_id not in products
    ]
    inactive = [
        str(line.product_id)
        for line in command.lines
        if line.product_id in products and not products[line.product_id].active
    ]
    missing: dict[str, list[str]] = {}
    if not customer_exists:
        missing["customer_id"] = [str(command.customer_id)]
    if missing_products:
        missing["product_ids"] = missing_products
    if inactive:
        missing["inactive_product_ids"] = inactive
    if missing:
        raise UnknownReferences("the order names customers or products it cannot use", missing)

    shortages = [
        {
            "product_id": str(line.product_id),
            "requested": line.quantity,
            "available": products[line.product_id].stock,
        }
        for line in command.lines
        if products[line.product_id].stock < line.quantity
    ]
    if shortages:
        raise InsufficientStock(shortages)

    lines = tuple(
        PlannedLine(
            line.product_id,
            line.quantity,
            products[line.product_id].unit_price,
            money(products[line.product_id].unit_price * line.quantity),
        )
        for line in command.lines
    )
    return OrderPlan(
        command.customer_id,
        lines,
        money(sum((pl.line_total for pl in lines), Decimal(0))),
        command.note,
    )


class Transition(Enum):
    """What a requested state change does: change the thing, or nothing, because the thing is
    already there (repeating a cancel or a payment is safe)."""

    APPLIES = "applies"
    ALREADY_DONE = "already done"


def cancelling(order: Order) -> Transition:
    """What cancelling the order does; InvalidTransition for a paid order."""
    if order.status == "cancelled":
        return Transition.ALREADY_DONE
    if order.invoice is not None and order.invoice.status == "paid":
        raise InvalidTransition("a paid order cannot be cancelled")
    return Transition.APPLIES


def paying(invoice: Invoice, payment: Payment | None = None) -> Transition:
    """What paying the invoice does: ALREADY_DONE when this very payment is recorded (a
    no-op); InvalidTransition for a void invoice. Another payment for a paid invoice is
    AlreadyPaid: a possible double charge, refused with the recorded payment."""
    if invoice.status == "paid":
        recorded = (invoice.payment_method, invoice.payment_reference)
        if payment is not None and (payment.method, payment.reference) != recorded:
            raise AlreadyPaid(invoice.payment_method, invoice.payment_reference, invoice.paid_at)
        return Transition.ALREADY_DONE
    if invoice.status == "void":
        raise InvalidTransition("a void invoice cannot be paid")
    return Transition.APPLIES


def invoice_number(sequence: int) -> str:
    return f"INV-{sequence:06d}"


def sort_for_locking(product_ids: Sequence[UUID]) -> list[UUID]:
    """Every command locks products in one global order (by id), so two orders over the same
    products always queue instead of deadlocking."""
    return sorted(set(product_ids))
