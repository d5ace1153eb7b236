"""Invoices: one-trip reads, and issuing with a gapless per-tenant number."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.model.orders import Invoice, InvoiceStatus, Order, Payment, invoice_number
from domain.model.paging import Page, PageRequest
from domain.ports import InvoiceFilter
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import raw, sql
from infrastructure.db.tables import invoices, orders
from infrastructure.db.writes import TenantWrites
from infrastructure.repositories.paging import FilteredList, after, to_page

_COLUMNS = (
    invoices.c.id,
    invoices.c.order_id,
    invoices.c.number,
    invoices.c.amount,
    invoices.c.currency,
    invoices.c.status,
    invoices.c.issued_at,
    invoices.c.paid_at,
    invoices.c.voided_at,
    invoices.c.payment_method,
    invoices.c.payment_reference,
)
_of_tenant = invoices.c.tenant_id == sa.bindparam("tenant_id")
_by_id = invoices.c.id == sa.bindparam("id")


def _invoice(row: Any) -> Invoice:
    return Invoice(*row)


# An invoice's customer is its order's: the filter reads the order by its key, tenant-scoped.
_of_customer = invoices.c.order_id.in_(
    sa.select(orders.c.id).where(
        orders.c.tenant_id == sa.bindparam("tenant_id"),
        orders.c.customer_id == sa.bindparam("customer_id"),
    )
)
_list = FilteredList(
    lambda conditions: sql(
        sa.select(*_COLUMNS)
        .where(_of_tenant, *conditions)
        .order_by(invoices.c.issued_at.desc(), invoices.c.id.desc())
        .limit(sa.bindparam("limit"))
    ),
    after=after(invoices.c.issued_at, invoices.c.id),
    conditions={
        "status": invoices.c.status == sa.bindparam("status"),
        "customer_id": _of_customer,
        "order_id": invoices.c.order_id == sa.bindparam("order_id"),
        "since": invoices.c.issued_at >= sa.bindparam("since"),
        "until": invoices.c.issued_at < sa.bindparam("until"),
    },
)


_get = sql(sa.select(*_COLUMNS).where(_of_tenant, _by_id))


class InvoiceReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def get(self, tenant_id: UUID, invoice_id: UUID) -> Invoice | None:
        row = await self._reads.fetch_one(tenant_id, _get, {"id": invoice_id})
        return _invoice(row) if row else None

    async def list(self, tenant_id: UUID, page: PageRequest, where: InvoiceFilter) -> Page[Invoice]:
        stmt, params = _list.query(page, where)
        rows = await self._reads.fetch_all(tenant_id, stmt, params)
        return to_page(rows, page, _invoice, lambda i: (i.issued_at, i.id))


# The counter row is locked by this upsert until commit, so invoice numbers are taken one
# transaction at a time per tenant, and a rolled-back order gives its number back: no gaps.
_next_number = raw(
    "insert into invoice_counters (tenant_id, last_number) values (%(tenant_id)s, 1)"
    " on conflict (tenant_id) do update set last_number = invoice_counters.last_number + 1"
    " returning last_number",
)
_insert = sql(
    sa.insert(invoices)
    .values(
        tenant_id=sa.bindparam("tenant_id"),
        order_id=sa.bindparam("order_id"),
        number=sa.bindparam("number"),
        amount=sa.bindparam("amount"),
        currency=sa.bindparam("currency"),
    )
    .returning(*_COLUMNS),
)
_lock = sql(sa.select(*_COLUMNS).where(_of_tenant, _by_id).with_for_update())
_mark_paid = raw(
    "update invoices set status = 'paid', paid_at = %(at)s,"
    " payment_method = %(method)s, payment_reference = %(reference)s"
    " where tenant_id = %(tenant_id)s and id = %(id)s",
)
_set_status = raw(
    "update invoices set status = %(status)s,"
    " paid_at = case when %(status)s = 'paid' then %(at)s else paid_at end,"
    " voided_at = case when %(status)s = 'void' then %(at)s else voided_at end"
    " where tenant_id = %(tenant_id)s and id = %(id)s",
)


class InvoiceWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def issue(self, order: Order) -> Invoice:
        ((sequence,),) = await self._writes.execute(_next_number)
        rows = await self._writes.execute(
            _insert,
            {
                "order_id": order.id,
                "number": invoice_number(sequence),
                "amount": order.total,
                "currency": order.currency,
            },
        )
        return _invoice(rows[0])

    async def lock(self, invoice_id: UUID) -> Invoice | None:
        rows = await self._writes.execute(_lock, {"id": invoice_id})
        return _invoice(rows[0]) if rows else None

    async def mark_paid(self, invoice_id: UUID, at: datetime, payment: Payment) -> None:
        await self._writes.execute(
            _mark_paid,
            {"id": invoice_id, "at": at, "method": payment.method, "reference": payment.reference},
        )

    async def set_status(self, invoice_id: UUID, status: InvoiceStatus, at: datetime) -> None:
        await self._writes.execute(
            _set_status,
            {"id": invoice_id, "status": status, "at": at},
        )
