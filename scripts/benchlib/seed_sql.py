"""Set-based SQL that writes one benchmark tenant, run by the owner role acting as the tenant.

Every statement is filtered by tenant explicitly (index use) and by RLS (forced on the owner
too). The data is consistent the way the service keeps it: stock == sum of movements, every
order has lines, movements and an invoice, invoice numbers are gapless from INV-000001.
"""

ACT_AS_TENANT = "select set_config('app.tenant_id', %(t)s, true)"

TENANT = "insert into tenants (slug, name) values (%(slug)s, %(name)s) returning id, currency"

ADMIN = (
    "insert into users (tenant_id, email, name, role, password_hash)"
    " values (%(t)s, %(email)s, 'Bench Admin', 'admin', %(hash)s)"
)

# Oldest first: created_at counts down to now, so keyset pages have a real order.
CUSTOMERS = """
insert into customers (tenant_id, name, email, phone, created_at, updated_at)
select %(t)s, 'Customer ' || g, 'customer' || g || '@' || %(slug)s || '.test',
       case when g %% 4 = 0 then null else '+1 555 ' || lpad(g::text, 6, '0') end,
       now() - (%(n)s - g) * interval '1 minute', now() - (%(n)s - g) * interval '1 minute'
  from generate_series(1, %(n)s) g
"""

# Every 50th product runs low (0-4 left) so the dashboard has a low-stock list; the rest
# hold enough that the `mixed` scenario never runs them out.
PRODUCTS = """
insert into products (tenant_id, sku, name, unit_price, stock, created_at, updated_at)
select %(t)s, 'SKU-' || lpad(g::text, 6, '0'), 'Product ' || g,
       round(1 + (g * 7919 %% 50000) / 100.0, 2),
       case when g %% 50 = 0 then g %% 5 else %(stock)s end,
       now() - (%(n)s - g) * interval '1 minute', now() - (%(n)s - g) * interval '1 minute'
  from generate_series(1, %(n)s) g
"""

OPENING_STOCK = """
insert into inventory_movements (tenant_id, product_id, delta, reason, note, created_at)
select tenant_id, id, stock, 'adjustment', 'opening stock', created_at
  from products where tenant_id = %(t)s and stock > 0
"""

# One row per order line: n-th order (oldest first, spread over 60 days), its customer, and
# 1-3 distinct well-stocked products (offsets 5 apart) with quantities 1-3.
ORDER_PLAN = """
create temp table bench_order_plan on commit drop as
with c as (select id, row_number() over (order by email) - 1 as idx
             from customers where tenant_id = %(t)s),
     p as (select id, unit_price, row_number() over (order by sku) - 1 as idx
             from products where tenant_id = %(t)s and stock >= 1000),
     counts as (select (select count(*) from c) as nc, (select count(*) from p) as np),
     o as (select g as n, gen_random_uuid() as id,
                  now() - (%(n)s - g + 1) * interval '60 days' / %(n)s as created_at
             from generate_series(1, %(n)s) g)
select o.n, o.id as order_id, o.created_at, c.id as customer_id, l.line_no,
       p.id as product_id, p.unit_price, 1 + (o.n + l.line_no) %% 3 as quantity
  from o cross join counts
  join c on c.idx = o.n * 31 %% counts.nc
  cross join lateral generate_series(1, 1 + o.n %% 3) as l(line_no)
  join p on p.idx = (o.n * 17 + l.line_no * 5) %% counts.np
"""

ORDERS = """
insert into orders (id, tenant_id, customer_id, status, total, currency, created_at)
select order_id, %(t)s, customer_id, 'placed', sum(quantity * unit_price), %(currency)s, created_at
  from bench_order_plan group by order_id, customer_id, created_at
"""

ORDER_LINES = """
insert into order_lines (tenant_id, order_id, line_no, product_id, quantity, unit_price, line_total)
select %(t)s, order_id, line_no, product_id, quantity, unit_price, quantity * unit_price
  from bench_order_plan
"""

ORDER_MOVEMENTS = """
insert into inventory_movements (tenant_id, product_id, delta, reason, order_id, created_at)
select %(t)s, product_id, -quantity, 'order', order_id, created_at from bench_order_plan
"""

TAKE_STOCK = """
update products p set stock = p.stock - s.quantity
  from (select product_id, sum(quantity) as quantity from bench_order_plan group by product_id) s
 where p.id = s.product_id and p.tenant_id = %(t)s
"""

# Every other invoice is paid, so the dashboard's open-invoice figures are not everything.
INVOICES = """
insert into invoices (tenant_id, order_id, number, amount, currency, status, issued_at, paid_at)
select %(t)s, order_id, 'INV-' || lpad(n::text, 6, '0'), sum(quantity * unit_price), %(currency)s,
       case when n %% 2 = 0 then 'paid' else 'open' end, created_at,
       case when n %% 2 = 0 then created_at + interval '1 day' end
  from bench_order_plan group by n, order_id, created_at
"""

INVOICE_COUNTER = "insert into invoice_counters (tenant_id, last_number) values (%(t)s, %(n)s)"

# Sessions with ids pgbench can name: 28 bytes of a per-tenant prefix, then the 8 decimal
# digits of 10000000 + k read as hex. Upserted on every run so they never expire mid-bench.
PGBENCH_SESSIONS = """
insert into sessions (id, tenant_id, user_id, expires_at)
select decode(%(prefix)s || (10000000 + k)::text, 'hex'), %(t)s, u.id, now() + interval '30 days'
  from generate_series(0, %(n)s - 1) k, users u
 where u.tenant_id = %(t)s and u.email = %(email)s
on conflict (id) do update set expires_at = excluded.expires_at, revoked_at = null
"""

SAMPLE_CUSTOMERS = (
    "select id::text from customers where tenant_id = %(t)s order by random() limit %(n)s"
)
SAMPLE_PRODUCTS = (
    "select id::text from products where tenant_id = %(t)s and stock >= 1000"
    " order by random() limit %(n)s"
)
