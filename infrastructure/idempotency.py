"""Idempotency-Key, stored in the same transaction as the command it protects.

The HTTP edge declares a request idempotent by setting `current` for the request; the
UnitOfWork the command opens then, right after BEGIN:
  - takes a transaction-scoped advisory lock on (tenant, key) WITHOUT waiting: if another
    request holds it, that request is still running -> `InFlight` (409), nothing is blocked;
  - looks the key up: a completed record with the same fingerprint -> `Replay` (the stored
    status and body), with another fingerprint -> `KeyReused` (422);
and right before COMMIT writes the record with the response built from the command's result.
Effect and record commit together or not at all. Advisory locks are transaction-scoped, so
this works unchanged behind PgBouncer in transaction mode.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from uuid import UUID

import psycopg2

from infrastructure.db.pool import Connection
from infrastructure.db.sql import raw

RETENTION = "24 hours"


@dataclass(slots=True)
class IdempotentRequest:
    key: str
    fingerprint: bytes
    route: str
    success_status: int
    render: Callable[[object], bytes]
    # The Location header a created resource is answered with, so a replay carries it too.
    locate: Callable[[object], str | None] = field(default=lambda _: None)


current: ContextVar[IdempotentRequest | None] = ContextVar("idempotent_request", default=None)


class Replay(Exception):
    def __init__(self, status: int, body: bytes, location: str | None) -> None:
        super().__init__("replay")
        self.status = status
        self.body = body
        self.location = location


class InFlight(Exception):
    """Another request with this key is still running."""


class KeyReused(Exception):
    """The key was used before with a different request."""


# Looked up in a statement of its own AFTER the lock is held: under READ COMMITTED it then sees
# a record that the previous holder committed just before releasing the lock.
_lookup = raw(
    "select fingerprint, status_code, body, location from idempotency_keys"
    f" where tenant_id = %(tenant_id)s and key = %(key)s and created_at > now() - interval '{RETENTION}'",
    "idempotency_lookup",
)
_lock = raw(
    "select pg_try_advisory_xact_lock(hashtextextended(%(tenant_id)s::text || ':' || %(key)s, 0))",
    "idempotency_lock",
)
# An expired record (older than the retention, not yet purged) is replaced.
_store = raw(
    "insert into idempotency_keys"
    " (tenant_id, key, fingerprint, route, status_code, body, location, completed_at)"
    " values (%(tenant_id)s, %(key)s, %(fingerprint)s, %(route)s, %(status)s, %(body)s, %(location)s, now())"
    " on conflict (tenant_id, key) do update set fingerprint = excluded.fingerprint,"
    " route = excluded.route, status_code = excluded.status_code, body = excluded.body,"
    " location = excluded.location,"
    " created_at = now(), completed_at = now()"
    f" where idempotency_keys.created_at <= now() - interval '{RETENTION}'",
    "idempotency_store",
)
_PURGE = (
    "delete from idempotency_keys where tenant_id = %(tenant_id)s"
    f" and created_at <= now() - interval '{RETENTION}'"
)


def purge_expired(owner_url: str) -> int:
    """Delete expired records of every tenant, one short transaction per tenant (RLS is forced
    on the owner too, so each runs as its tenant). Returns how many were deleted."""
    removed = 0
    conn = psycopg2.connect(owner_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select id from tenants")
            tenant_ids = [str(row[0]) for row in cur.fetchall()]
        for tenant_id in tenant_ids:
            with conn, conn.cursor() as cur:  # `with conn` commits this tenant's transaction
                cur.execute("select set_config('app.tenant_id', %s, true)", (tenant_id,))
                cur.execute(_PURGE, {"tenant_id": tenant_id})
                removed += cur.rowcount
    finally:
        conn.close()
    return removed


async def check(conn: Connection, tenant_id: UUID, request: IdempotentRequest) -> None:
    """Right after BEGIN: raise InFlight, Replay or KeyReused, or return to run the command."""
    params = {"tenant_id": tenant_id, "key": request.key}
    ((locked,),) = await conn.execute(_lock, params)
    if not locked:
        raise InFlight()
    rows = await conn.execute(_lookup, params)
    if rows:
        fingerprint, status, body, location = rows[0]
        if bytes(fingerprint) != request.fingerprint:
            raise KeyReused()
        raise Replay(status, bytes(body), location)


async def store(
    conn: Connection, tenant_id: UUID, request: IdempotentRequest, result: object
) -> None:
    """Right before COMMIT: record the response the command's result renders to."""
    body = request.render(result)
    await conn.execute(
        _store,
        {
            "tenant_id": tenant_id,
            "key": request.key,
            "fingerprint": request.fingerprint,
            "route": request.route,
            "status": request.success_status,
            "body": body,
            "location": request.locate(result),
        },
    )
