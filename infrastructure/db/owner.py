"""Short synchronous sessions as the owner role, for operator jobs (demo seed, purges).

RLS is forced on the owner too, so each job acts as one tenant at a time (`ACT_AS_TENANT`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2

from infrastructure.db.tenancy import ACT_AS_TENANT


@contextmanager
def owner_transaction(owner_url: str) -> Iterator[Any]:
    """A cursor in one transaction, committed when the block ends cleanly."""
    conn = psycopg2.connect(owner_url)
    try:
        with conn, conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def act_as_tenant(cur: Any, tenant_id: str) -> None:
    cur.execute(ACT_AS_TENANT, {"tenant_id": tenant_id})


def in_each_tenant(owner_url: str, statement: str) -> int:
    """Run `statement` (which may use %(tenant_id)s) once per tenant, in one short transaction
    each on one connection; returns the rows it touched in all."""

    def touched(cur: Any, tenant_id: str) -> int:
        cur.execute(statement, {"tenant_id": tenant_id})
        return int(cur.rowcount)

    return _sum_over_tenants(owner_url, touched)


def total_in_each_tenant(owner_url: str, statement: str, params: dict[str, Any]) -> int:
    """Run `statement`, which answers one number, once per tenant (with `params` and the
    tenant's `tenant_id`), in one short transaction each; returns the numbers' sum."""

    def number(cur: Any, tenant_id: str) -> int:
        cur.execute(statement, {**params, "tenant_id": tenant_id})
        row = cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    return _sum_over_tenants(owner_url, number)


def _sum_over_tenants(owner_url: str, run: Callable[[Any, str], int]) -> int:
    """`run(cursor, tenant_id)` for every tenant, acting as it, each in a transaction of its
    own on one connection; the sum of what the runs return."""
    conn = psycopg2.connect(owner_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select id from tenants")
            tenant_ids = [str(row[0]) for row in cur.fetchall()]
        total = 0
        for tenant_id in tenant_ids:
            with conn, conn.cursor() as cur:  # `with conn` commits this tenant's transaction
                act_as_tenant(cur, tenant_id)
                total += run(cur, tenant_id)
        return total
    finally:
        conn.close()
