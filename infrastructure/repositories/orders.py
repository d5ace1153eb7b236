"""Orders with their lines and invoice: one-trip reads, and the writes of placing and cancelling.

The reads are hand-written SQL: each order comes back with its lines and invoice aggregated as
JSON in the same row, so a page of orders is one round trip. Money leaves PostgreSQL as text
so no float ever touches it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from domain.model.orders import Invoice, Order, OrderLine, OrderPlan
from domain.model.paging import Page, PageRequest
from domain.ports import OrderFilter
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import raw
from infrastructure.db.writes import TenantWrites
from infrastructure.repositories.paging import FilteredList, to_page

_ORDER_SELECT = """
select o.id, o.customer_id, o.status, o.total, o.currency, o.note, o.created_at, o.cancelled_at,
  o.cancel_reason,
  (select coalesce(json_agg(json_build_object(
          'product_id', l.product_id, 'quantity', l.quantity,
          'unit_price', l.unit_price::text, 'line_total', l.line_total::text) order by l.line_no), '[]')
     from order_lines l where l.order_id = o.id and l.tenant_id = o.tenant_id) as lines,
  (select json_build_object(
          'id', i.id, 'order_id', i.order_id, 'number', i.number, 'amount', i.amount::text,
          'currency', i.currency, 'status', i.status, 'issued_at', i.issued_at,
          'paid_at', i.paid_at, 'voided_at', i.voided_at,
          'payment_method', i.payment_method, 'payment_reference', i.payment_reference)
     from invoices i where i.order_id = o.id and i.tenant_id = o.tenant_id) as invoice
from orders o
"""


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def invoice_from_json(doc: dict[str, Any]) -> Invoice:
    return Invoice(
        id=UUID(doc["id"]),
        order_id=UUID(doc["order_id"]),
        number=doc["number"],
        amount=Decimal(doc["amount"]),
        currency=doc["currency"],
        status=doc["status"],
        issued_at=datetime.fromisoformat(doc["issued_at"]),
        paid_at=_ts(doc["paid_at"]),
        voided_at=_ts(doc["voided_at"]),
        payment_method=doc.get("payment_method"),
        payment_reference=doc.get("payment_reference"),
    )


def order_from_row(row: Any) -> Order:
    oid, customer_id, status, total, currency, note, created_at, cancelled_at, reason = row[:9]
    lines, invoice = row[9:]
    line_docs = orjson.loads(lines) if isinstance(lines, str) else lines
    invoice_doc = orjson.loads(invoice) if isinstance(invoice, str) else invoice
    return Order(
        id=oid,
        customer_id=customer_id,
        status=status,
        total=total,
        currency=currency,
        note=note,
        created_at=created_at,
        cancelled_at=cancelled_at,
        lines=tuple(
            OrderLine(
                UUID(d["product_id"]),
                d["quantity"],
                Decimal(d["unit_price"]),
                Decimal(d["line_total"]),
            )
            for d in line_docs
        ),
        invoice=invoice_from_json(invoice_doc) if invoice_doc else None,
        cancel_reason=reason,
    )


_get = raw(_ORDER_SELECT + " where o.tenant_id = %(tenant_id)s and o.id = %(id)s")


# Text, not Core: the select aggregates lines and invoice as JSON (one round trip per page).
_list = FilteredList(
    lambda conditions: raw(
        _ORDER_SELECT
        + " where "
        + " and ".join(["o.tenant_id = %(tenant_id)s", *conditions])
        + " order by o.created_at desc, o.id desc limit %(limit)s"
    ),
    after="(o.created_at, o.id) < (%(after_created)s, %(after_id)s)",
    conditions={
        "status": "o.status = %(status)s",
        "customer_id": "o.customer_id = %(customer_id)s",
        "since": "o.created_at >= %(since)s",
        "until": "o.created_at < %(until)s",
    },
)


class OrderReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def get(self, tenant_id: UUID, order_id: UUID) -> Order | None:
        row = await self._reads.fetch_one(tenant_id, _get, {"id": order_id})
        return order_from_row(row) if row else None

    async def list(self, tenant_id: UUID, page: PageRequest, where: OrderFilter) -> Page[Order]:
        stmt, params = _list.query(page, where)
        rows = await self._reads.fetch_all(tenant_id, stmt, params)
        return to_page(rows, page, order_from_row, lambda o: (o.created_at, o.id))


_insert_order = raw(
    "insert into orders (tenant_id, customer_id, total, currency, note)"
    " select %(tenant_id)s, %(customer_id)s, %(total)s, t.currency, %(note)s from tenants t where t.id = %(tenant_id)s"
    " returning id, currency, created_at",
)
_insert_lines = raw(
    "insert into order_lines (tenant_id, order_id, line_no, product_id, quantity, unit_price, line_total)"
    " select %(tenant_id)s, %(order_id)s, l.line_no, l.product_id, l.quantity, l.unit_price, l.line_total"
    " from unnest(%(line_nos)s::int[], %(product_ids)s::uuid[], %(quantities)s::int[],"
    " %(unit_prices)s::numeric[], %(line_totals)s::numeric[])"
    " as l(line_no, product_id, quantity, unit_price, line_total)",
)
_lock = raw(_get.text + " for update of o")
_cancel = raw(
    "update orders set status = 'cancelled', cancelled_at = %(at)s, cancel_reason = %(reason)s"
    " where tenant_id = %(tenant_id)s and id = %(id)s",
)


class OrderWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def add(self, plan: OrderPlan) -> Order:
        ((oid, currency, created_at),) = await self._writes.execute(
            _insert_order,
            {
                "customer_id": plan.customer_id,
                "total": plan.total,
                "note": plan.note,
            },
        )
        await self._writes.execute(
            _insert_lines,
            {
                "order_id": oid,
                "line_nos": list(range(1, len(plan.lines) + 1)),
                "product_ids": [ln.product_id for ln in plan.lines],
                "quantities": [ln.quantity for ln in plan.lines],
                "unit_prices": [ln.unit_price for ln in plan.lines],
                "line_totals": [ln.line_total for ln in plan.lines],
            },
        )
        lines = tuple(
            OrderLine(ln.product_id, ln.quantity, ln.unit_price, ln.line_total) for ln in plan.lines
        )
        return Order(
            oid,
            plan.customer_id,
            "placed",
            plan.total,
            currency,
            plan.note,
            created_at,
            None,
            lines,
            None,
        )

    async def lock(self, order_id: UUID) -> Order | None:
        rows = await self._writes.execute(_lock, {"id": order_id})
        return order_from_row(rows[0]) if rows else None

    async def mark_cancelled(self, order_id: UUID, at: datetime, reason: str | None = None) -> None:
        await self._writes.execute(_cancel, {"id": order_id, "at": at, "reason": reason})
