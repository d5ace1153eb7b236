"""The benchmark's two tenants: written once (idempotently) as the owner role, then sampled.

Each tenant is written in ONE transaction, so a tenant row that exists has all of its data;
a second run finds it and only refreshes the pgbench sessions and the id samples.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import psycopg2
from argon2 import PasswordHasher

from benchlib import seed_sql as q

PASSWORD = "bench-password"
SAMPLE = 200  # customer and product ids handed to wrk per tenant
ANALYZE = (
    "analyze users, sessions, customers, products, inventory_movements,"
    " orders, order_lines, invoices"
)


@dataclass(frozen=True, slots=True)
class Size:
    customers: int
    products: int
    orders: int
    pgbench_sessions: int
    stock: int = 100_000


FULL = Size(customers=10_000, products=1_000, orders=2_000, pgbench_sessions=100)
TINY = Size(customers=200, products=50, orders=20, pgbench_sessions=20)


@dataclass(slots=True)
class BenchTenant:
    slug: str
    id: str
    email: str
    customers: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    token: str = ""  # set after logging in over HTTP
    etag: str = ""  # the `read` page's current ETag, set before a read-conditional run

    @property
    def session_prefix(self) -> str:
        """56 hex digits of the pgbench session ids (see seed_sql.PGBENCH_SESSIONS)."""
        return hashlib.sha256(self.slug.encode()).hexdigest()[:56]


def prepare(owner_url: str, tiny: bool) -> tuple[list[BenchTenant], Size]:
    size = TINY if tiny else FULL
    stem = "tiny" if tiny else "bench"
    conn = psycopg2.connect(owner_url)
    try:
        tenants = [_tenant(conn, f"{stem}-{letter}", size) for letter in "ab"]
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(ANALYZE)  # fresh statistics: the first runs should not plan blind
    finally:
        conn.close()
    return tenants, size


def _tenant(conn: Any, slug: str, size: Size) -> BenchTenant:
    email = f"admin@{slug}.test"
    with conn, conn.cursor() as cur:
        cur.execute("select id::text from tenants where slug = %s", (slug,))
        row = cur.fetchone()
        tenant_id = row[0] if row else _write_tenant(cur, slug, email, size)
        tenant = BenchTenant(slug, tenant_id, email)
        params = {"t": tenant_id, "email": email, "n": size.pgbench_sessions}
        cur.execute(q.ACT_AS_TENANT, params)
        cur.execute(q.PGBENCH_SESSIONS, params | {"prefix": tenant.session_prefix})
        cur.execute(q.SAMPLE_CUSTOMERS, {"t": tenant_id, "n": SAMPLE})
        tenant.customers = [r[0] for r in cur.fetchall()]
        cur.execute(q.SAMPLE_PRODUCTS, {"t": tenant_id, "n": SAMPLE})
        tenant.products = [r[0] for r in cur.fetchall()]
    return tenant


def _write_tenant(cur: Any, slug: str, email: str, size: Size) -> str:
    cur.execute(q.TENANT, {"slug": slug, "name": f"Benchmark tenant {slug}"})
    tenant_id, currency = cur.fetchone()
    tenant_id = str(tenant_id)
    # Real argon2 parameters: login-storm measures what a real login costs.
    password_hash = PasswordHasher().hash(PASSWORD)
    p = {"t": tenant_id, "slug": slug, "currency": currency, "stock": size.stock}
    cur.execute(q.ACT_AS_TENANT, p)
    cur.execute(q.ADMIN, p | {"email": email, "hash": password_hash})
    cur.execute(q.CUSTOMERS, p | {"n": size.customers})
    cur.execute(q.PRODUCTS, p | {"n": size.products})
    cur.execute(q.OPENING_STOCK, p)
    p["n"] = size.orders
    for statement in (
        q.ORDER_PLAN,
        q.ORDERS,
        q.ORDER_LINES,
        q.ORDER_MOVEMENTS,
        q.TAKE_STOCK,
        q.INVOICES,
        q.INVOICE_COUNTER,
    ):
        cur.execute(statement, p)
    return tenant_id
