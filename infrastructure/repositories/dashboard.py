"""The dashboard read model: every number in ONE tenant-scoped statement, no transaction."""

from __future__ import annotations

from uuid import UUID

import orjson

from domain.model.dashboard import Dashboard, LowStockItem
from domain.model.money import money
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import raw

# Each scalar subquery is filtered by tenant explicitly (index use) and by RLS (defence).
# Orders and invoices are each scanned ONCE, every figure an aggregate FILTER over that scan:
# the dashboard is the heaviest read, and separate sub-selects scanned orders five times.
_summary = raw(
    """
with o as (
  select count(*) filter (where status = 'placed') as placed,
         count(*) filter (where status = 'cancelled') as cancelled,
         coalesce(sum(total) filter (where status = 'placed'
                                     and created_at >= date_trunc('day', now())), 0) as today,
         coalesce(sum(total) filter (where status = 'placed'
                                     and created_at >= now() - interval '30 days'), 0) as d30,
         coalesce(sum(total) filter (where status = 'placed'), 0) as total
    from orders where tenant_id = %(tenant_id)s),
i as (
  select count(*) as n, coalesce(sum(amount), 0) as amount
    from invoices where tenant_id = %(tenant_id)s and status = 'open')
select
  (select count(*) from customers where tenant_id = %(tenant_id)s),
  (select count(*) from products where tenant_id = %(tenant_id)s),
  (select coalesce(json_agg(json_build_object('id', p.id, 'sku', p.sku, 'name', p.name, 'stock', p.stock)
                            order by p.stock, p.sku), '[]')
     from (select id, sku, name, stock from products
            where tenant_id = %(tenant_id)s and active and stock <= %(threshold)s
            order by stock, sku limit 10) p),
  o.placed, o.cancelled, o.today, o.d30, o.total, i.n, i.amount,
  (select currency from tenants where id = %(tenant_id)s)
from o, i
""",
)


class DashboardReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def summary(self, tenant_id: UUID, low_stock_threshold: int) -> Dashboard:
        row = await self._reads.fetch_one(tenant_id, _summary, {"threshold": low_stock_threshold})
        assert row is not None
        (
            customers,
            products,
            low,
            placed,
            cancelled,
            today,
            d30,
            total,
            open_n,
            open_amt,
            currency,
        ) = row
        low_docs = orjson.loads(low) if isinstance(low, str) else low
        return Dashboard(
            customers=customers,
            products=products,
            low_stock=[
                LowStockItem(UUID(d["id"]), d["sku"], d["name"], d["stock"]) for d in low_docs
            ],
            orders_placed=placed,
            orders_cancelled=cancelled,
            revenue_today=money(today),
            revenue_30d=money(d30),
            revenue_total=money(total),
            open_invoices=open_n,
            open_invoices_amount=money(open_amt),
            currency=currency,
        )
