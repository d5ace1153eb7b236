"""After load: no product oversold, and every product's stock equals the sum of its movements."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg2

from benchlib.dataset import BenchTenant

_CHECK = """
select count(*) filter (where p.stock < 0),
       count(*) filter (where p.stock <> coalesce(m.total, 0)),
       count(*),
       (select count(*) from orders where tenant_id = %(t)s)
  from products p
  left join (select product_id, sum(delta) as total from inventory_movements
              where tenant_id = %(t)s group by product_id) m on m.product_id = p.id
 where p.tenant_id = %(t)s
"""


def check(owner_url: str, tenants: Sequence[BenchTenant]) -> dict[str, object]:
    oversold = mismatched = products = orders = 0
    conn = psycopg2.connect(owner_url)
    try:
        for tenant in tenants:
            with conn, conn.cursor() as cur:
                cur.execute("select set_config('app.tenant_id', %s, true)", (tenant.id,))
                cur.execute(_CHECK, {"t": tenant.id})
                o, m, p, n = cur.fetchone()
                oversold, mismatched, products, orders = (
                    oversold + o,
                    mismatched + m,
                    products + p,
                    orders + n,
                )
    finally:
        conn.close()
    return {
        "ok": oversold == 0 and mismatched == 0,
        "oversold": oversold,
        "stock_not_sum_of_movements": mismatched,
        "products": products,
        "orders": orders,
    }
