"""Invoices: one-trip reads, and issuing with a gapless per-tenant number."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.model.orders import Invoice, InvoiceStatus, Order, invoice_number
from domain.model.paging import Page, PageRequest
from infrastructure.db.pool import Connection
from infrastructure.db.reader import TenantReader
from infrastructure.db.sql import raw, sql
from infrastructure.db.tables import invoices
from infrastructure.repositories.paging import after, page_params, to_page

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
)
_of_tenant = invoices.c.tenant_id == sa.bindparam("tenant_id")
_by_id = invoices.c.id == sa.bindparam("id")


def _invoice(row: Any) -> Invoice:
    return Invoice(*row)


def _page(with_after: bool, with_status: bool) -> Any:
    conditions = [_of_tenant]
    if with_after:
        conditions.append(after(invoices.c.issued_at, invoices.c.id))
    if with_status:
        conditions.append(invoices.c.status == sa.bindparam("status"))
    stmt = (
        sa.select(*_COLUMNS)
        .where(*conditions)
        .order_by(invoices.c.issued_at.desc(), invoices.c.id.desc())
        .limit(sa.bindparam("limit"))
    )
    return sql(stmt, "invoice_page")


_pages = {(a, s): _page(a, s) for a in (False, True) for s in (False, True)}
_get = sql(sa.select(*_COLUMNS).where(_of_tenant, _by_id), "invoice_get")


class InvoiceReadRepository:
    def __init__(self, reader: TenantReader) -> None:
        self._reader = reader

    async def get(self, tenant_id: UUID, invoice_id: UUID) -> Invoice | None:
        row = await self._reader.fetch_one(
            tenant_id, _get, {"tenant_id": tenant_id, "id": invoice_id}
        )
        return _invoice(row) if row else None

    async def list(
        self, tenant_id: UUID, page: PageRequest, status: InvoiceStatus | None
    ) -> Page[Invoice]:
        params = page_params(page) | {"tenant_id": tenant_id, "status": status}
        rows = await self._reader.fetch_all(
            tenant_id, _pages[(page.after is not None, status is not None)], params
        )
        return to_page(rows, page, _invoice, lambda i: (i.issued_at, i.id))


# The counter row is locked by this upsert until commit, so invoice numbers are taken one
# transaction at a time per tenant, and a rolled-back order gives its number back: no gaps.
_next_number = raw(
    "insert into invoice_counters (tenant_id, last_number) values (%(tenant_id)s, 1)"
    " on conflict (tenant_id) do update set last_number = invoice_counters.last_number + 1"
    " returning last_number",
    "invoice_next_number",
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
    "invoice_insert",
)
_lock = sql(sa.select(*_COLUMNS).where(_of_tenant, _by_id).with_for_update(), "invoice_lock")
_set_status = raw(
    "update invoices set status = %(status)s,"
    " paid_at = case when %(status)s = 'paid' then %(at)s else paid_at end,"
    " voided_at = case when %(status)s = 'void' then %(at)s else voided_at end"
    " where tenant_id = %(tenant_id)s and id = %(id)s",
    "invoice_set_status",
)


class InvoiceWriteRepository:
    def __init__(self, conn: Connection, tenant_id: UUID) -> None:
        self._conn = conn
        self._tenant_id = tenant_id

    async def issue(self, order: Order) -> Invoice:
        ((sequence,),) = await self._conn.execute(_next_number, {"tenant_id": self._tenant_id})
        rows = await self._conn.execute(
            _insert,
            {
                "tenant_id": self._tenant_id,
                "order_id": order.id,
                "number": invoice_number(sequence),
                "amount": order.total,
                "currency": order.currency,
            },
        )
        return _invoice(rows[0])

    async def lock(self, invoice_id: UUID) -> Invoice | None:
        rows = await self._conn.execute(_lock, {"tenant_id": self._tenant_id, "id": invoice_id})
        return _invoice(rows[0]) if rows else None

    async def set_status(self, invoice_id: UUID, status: InvoiceStatus, at: datetime) -> None:
        await self._conn.execute(
            _set_status,
            {"tenant_id": self._tenant_id, "id": invoice_id, "status": status, "at": at},
        )
