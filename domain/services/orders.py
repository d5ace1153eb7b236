"""Placing and cancelling orders: every step of each in one unit of work."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.errors import found
from domain.model.orders import (
    Order,
    PlaceOrder,
    Transition,
    cancelling,
    check_lines,
    plan_order,
    sort_for_locking,
)
from domain.model.products import Movement
from domain.ports import Clock, IdempotencyClaim, OrderFilter, OrderReader, UnitOfWorkFactory
from domain.services.catalog import Catalog


class OrderService(Catalog[Order, OrderFilter]):
    def __init__(self, reader: OrderReader, uow: UnitOfWorkFactory, clock: Clock) -> None:
        super().__init__(reader, "order")
        self._uow = uow
        self._clock = clock

    async def place(
        self, tenant_id: UUID, command: PlaceOrder, idempotency: IdempotencyClaim | None = None
    ) -> Order:
        check_lines(command)  # before any connection is taken
        async with self._uow(tenant_id, idempotency) as uow:
            customer_exists = await uow.customers.exists(command.customer_id)
            products = await uow.products.lock(
                sort_for_locking([ln.product_id for ln in command.lines])
            )
            plan = plan_order(command, customer_exists, products)
            await uow.products.apply(sorted((ln.product_id, -ln.quantity) for ln in plan.lines))
            order = await uow.orders.add(plan)
            await uow.movements.add(
                [
                    Movement(ln.product_id, -ln.quantity, "order", order_id=order.id)
                    for ln in plan.lines
                ]
            )
            order = replace(order, invoice=await uow.invoices.issue(order))
            uow.events.record("order.placed", order)
            uow.events.record("invoice.issued", order.invoice)
            await uow.commit(order)
        return order

    async def cancel(
        self,
        tenant_id: UUID,
        order_id: UUID,
        reason: str | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> Order:
        async with self._uow(tenant_id, idempotency) as uow:
            order = found(await uow.orders.lock(order_id), "order")
            if order.invoice is not None:
                # Lock and re-read the invoice in a statement of its own: a payment may have
                # committed while we waited for the order lock, and the order statement's
                # snapshot would not show it (cancel would void a paid invoice).
                order = replace(order, invoice=await uow.invoices.lock(order.invoice.id))
            if cancelling(order) is Transition.ALREADY_DONE:
                await uow.commit(order)  # repeating a cancel answers the same order
                return order
            now = self._clock.now()
            restock = sorted((line.product_id, line.quantity) for line in order.lines)
            await uow.products.lock([pid for pid, _ in restock])
            await uow.products.apply(restock)
            await uow.movements.add(
                [Movement(pid, qty, "cancel", order_id=order.id) for pid, qty in restock]
            )
            await uow.orders.mark_cancelled(order.id, now, reason)
            invoice = order.invoice
            if invoice is not None:
                await uow.invoices.set_status(invoice.id, "void", now)
                invoice = replace(invoice, status="void", voided_at=now)
            order = replace(
                order, status="cancelled", cancelled_at=now, invoice=invoice, cancel_reason=reason
            )
            uow.events.record("order.cancelled", order)
            await uow.commit(order)
        return order
