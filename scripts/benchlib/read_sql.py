"""The SQL of one `read` request, as a pgbench script.

GET /api/sales/customers?limit=20 sends at most two queries (the tenant lookup is cached):
the session principal, unless the worker's principal cache answers it, then the first page.
Two limits are measured: both queries (`with_auth`, what a read cost before the principal
cache, and costs on a cache miss) and the page query alone (a warm read). Each query is
wrapped by the service's one-trip reader
(set_config + read-only guard, one simple-protocol query). Both are rendered by psycopg2 from
the service's own statements and parameters, exactly as the service sends them; then pgbench
variables take the place of the tenant (one \\if branch per tenant) and of the session id
(one of the sessions seeded for pgbench, picked at random).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extras

from benchlib.dataset import BenchTenant
from domain.model.paging import PageRequest

# The service's private statements, on purpose: when they change, this follows.
from infrastructure.db.reads import tenant_read_text
from infrastructure.repositories.customers import _pages
from infrastructure.repositories.identity import _session_principal
from infrastructure.repositories.paging import page_params

_SENTINEL = "ffffffff"  # the last 4 bytes of the session id, replaced by :sid


def _request(cur: Any, tenant: BenchTenant, statement_timeout: str, with_auth: bool) -> list[str]:
    tenant_id = uuid.UUID(tenant.id)
    # What TenantReads adds to every read's parameters.
    added = {"tenant_id": tenant_id, "_statement_timeout": statement_timeout}
    session_id = bytes.fromhex(tenant.session_prefix + _SENTINEL)
    queries = [(tenant_read_text(_pages[(False, False)]), page_params(PageRequest(20)))]
    if with_auth:
        queries.insert(0, (tenant_read_text(_session_principal), {"sid": session_id}))
    rendered = []
    for text, params in queries:
        sql = cur.mogrify(text, params | added).decode()
        sql = sql.replace(tenant.session_prefix + _SENTINEL, tenant.session_prefix + ":sid")
        # One line; `\;` keeps the statements in ONE query, as the service sends them.
        rendered.append(" ".join(sql.split()).replace(";", "\\;") + ";")
    return rendered


def write_script(
    path: Path,
    url: str,
    tenants: Sequence[BenchTenant],
    sessions: int,
    statement_timeout: str,
    with_auth: bool = True,
) -> None:
    """`url` is only used to quote values the way the server expects; nothing is sent."""
    psycopg2.extras.register_uuid()
    lines = [
        f"\\set tenant random(1, {len(tenants)})",
        f"\\set sid random(10000000, {10000000 + sessions - 1})",
    ]
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            for i, tenant in enumerate(tenants, start=1):
                lines.append(("\\if" if i == 1 else "\\elif") + f" :tenant = {i}")
                lines.extend(_request(cur, tenant, statement_timeout, with_auth))
    finally:
        conn.close()
    lines.append("\\endif")
    path.write_text("\n".join(lines) + "\n")
