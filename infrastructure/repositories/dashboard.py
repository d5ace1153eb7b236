"""The dashboard read model: every number in ONE tenant-scoped statement, no transaction."""

from __future__ import annotations

from uuid import UUID

import orjson

from domain.model.dashboard import Dashboard, LowStockItem
from domain.model.money import money
from infrastructure.db.reader import TenantReader
from infrastructure.db.sql import raw

# Each scalar subquery is filtered by tenant explicitly (index use) and by RLS (defence).
_summary = raw(
    """
select
  (select count(*) from customers where tenant_id = %(t)s),
  (select count(*) from products where tenant_id = %(t)s),
  (select coalesce(json_agg(json_build_object('id', p.id, 'sku', p.sku, 'name', p.name, 'stock', p.stock)
                            order by p.stock, p.sku), '[]')
     from (select id, sku, name, stock from products
            where tenant_id = %(t)s and active and stock <= %(threshold)s
            order by stock, sku limit 10) p),
  (select count(*) from orders where tenant_id = %(t)s and status = 'placed'),
  (select count(*) from orders where tenant_id = %(t)s and status = 'cancelled'),
  (select coalesce(sum(total), 0) from orders
    where tenant_id = %(t)s and status = 'placed' and created_at >= date_trunc('day', now())),
  (select coalesce(sum(total), 0) from orders
    where tenant_id = %(t)s and status = 'placed' and created_at >= now() - interval '30 days'),
  (select coalesce(sum(total), 0) from orders where tenant_id = %(t)s and status = 'placed'),
  (select count(*) from invoices where tenant_id = %(t)s and status = 'open'),
  (select coalesce(sum(amount), 0) from invoices where tenant_id = %(t)s and status = 'open'),
  (select currency from tenants where id = %(t)s)
""",
    "dashboard_summary",
)


class DashboardReadRepository:
    def __init__(self, reader: TenantReader) -> None:
        self._reader = reader

    async def summary(self, tenant_id: UUID, low_stock_threshold: int) -> Dashboard:
        row = await self._reader.fetch_one(
            tenant_id, _summary, {"t": tenant_id, "threshold": low_stock_threshold}
        )
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
