"""The SQL of one warm `read` request, as a pgbench script.

A warm GET /api/sales/customers?limit=20 sends two queries (the tenant lookup is cached):
the session principal, then the first page, each wrapped by the service's one-trip reader
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
from domain.ports import CustomerFilter

# The service's private statements, on purpose: when they change, this follows.
from infrastructure.db.reads import tenant_read_text
from infrastructure.repositories.customers import _list
from infrastructure.repositories.identity import _session_principal

_SENTINEL = "ffffffff"  # the last 4 bytes of the session id, replaced by :sid


def _request(cur: Any, tenant: BenchTenant, statement_timeout: str, one_trip: bool) -> list[str]:
    tenant_id = uuid.UUID(tenant.id)
    # What TenantReads adds to every read's parameters.
    added = {"tenant_id": tenant_id, "_statement_timeout": statement_timeout}
    session_id = bytes.fromhex(tenant.session_prefix + _SENTINEL)
    first_page, params = _list.query(PageRequest(20), CustomerFilter())
    queries = [
        (tenant_read_text(_session_principal), {"sid": session_id}),
        (tenant_read_text(first_page), params),
    ]
    if one_trip:  # the page query alone: what a read costs once authentication takes no trip
        queries = queries[1:]
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
    one_trip: bool = False,
) -> None:
    """`url` is only used to quote values the way the server expects; nothing is sent.
    `one_trip`: only the page query, without the session lookup."""
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
                lines.extend(_request(cur, tenant, statement_timeout, one_trip))
    finally:
        conn.close()
    lines.append("\\endif")
    path.write_text("\n".join(lines) + "\n")
