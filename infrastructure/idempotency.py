"""Idempotency-Key, stored in the same transaction as the command it protects.

The HTTP edge hands the command an `IdempotencyClaim`; the service passes it to the
UnitOfWork it opens, which then, right after BEGIN:
  - takes a transaction-scoped advisory lock on (tenant, key) WITHOUT waiting: if another
    request holds it, that request is still running -> `InFlight` (409), nothing is blocked;
  - looks the key up: a completed record with the same fingerprint -> the command stops
    there (`ReplayFound`), and the command runner returns the stored status and body as its
    `Replayed` result; with another fingerprint -> `KeyReused` (422);
and right before COMMIT writes the record with the response body the command's result
encodes to (the service's one JSON encoding).
Effect and record commit together or not at all. Advisory locks are transaction-scoped, so
this works unchanged behind PgBouncer in transaction mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import IdempotencyClaim
from infrastructure.db.owner import in_each_tenant
from infrastructure.db.sql import raw
from infrastructure.db.writes import TenantWrites
from infrastructure.encoding import json_bytes

RETENTION = "24 hours"


@dataclass(frozen=True, slots=True)
class Replayed:
    """The key's first answer, to be sent again as it was: a result, not an error."""

    status: int
    body: bytes


class ReplayFound(Exception):
    """Raised right after BEGIN to leave the command unrun; the command runner
    (infrastructure/unit_of_work.py) turns it into its `Replayed` result, so the edge gets a
    result and never sees this."""

    def __init__(self, answer: Replayed) -> None:
        super().__init__("replay")
        self.answer = answer


class InFlight(Exception):
    """Another request with this key is still running."""


class KeyReused(Exception):
    """The key was used before with a different request."""


# Looked up in a statement of its own AFTER the lock is held: under READ COMMITTED it then sees
# a record that the previous holder committed just before releasing the lock.
_lookup = raw(
    "select fingerprint, status_code, body from idempotency_keys"
    f" where tenant_id = %(tenant_id)s and key = %(key)s and created_at > now() - interval '{RETENTION}'",
)
_lock = raw(
    "select pg_try_advisory_xact_lock(hashtextextended(%(tenant_id)s::text || ':' || %(key)s, 0))",
)
# An expired record (older than the retention, not yet purged) is replaced.
_store = raw(
    "insert into idempotency_keys"
    " (tenant_id, key, fingerprint, route, status_code, body, completed_at)"
    " values (%(tenant_id)s, %(key)s, %(fingerprint)s, %(route)s, %(status)s, %(body)s, now())"
    " on conflict (tenant_id, key) do update set fingerprint = excluded.fingerprint,"
    " route = excluded.route, status_code = excluded.status_code, body = excluded.body,"
    " location = null,"
    " created_at = now(), completed_at = now()"
    f" where idempotency_keys.created_at <= now() - interval '{RETENTION}'",
)
_PURGE = (
    "delete from idempotency_keys where tenant_id = %(tenant_id)s"
    f" and created_at <= now() - interval '{RETENTION}'"
)


def purge_expired(owner_url: str) -> int:
    """Delete expired records of every tenant; returns how many were deleted."""
    return in_each_tenant(owner_url, _PURGE)


async def check(writes: TenantWrites, claim: IdempotencyClaim) -> None:
    """Right after BEGIN: raise InFlight, ReplayFound or KeyReused, or return to run the
    command."""
    params = {"key": claim.key}
    ((locked,),) = await writes.execute(_lock, params)
    if not locked:
        raise InFlight()
    rows = await writes.execute(_lookup, params)
    if rows:
        fingerprint, status, body = rows[0]
        if bytes(fingerprint) != claim.fingerprint:
            raise KeyReused()
        raise ReplayFound(Replayed(status, bytes(body)))


async def store(writes: TenantWrites, claim: IdempotencyClaim, result: object) -> None:
    """Right before COMMIT: record the response body the command's result encodes to."""
    await writes.execute(
        _store,
        {
            "key": claim.key,
            "fingerprint": claim.fingerprint,
            "route": claim.route,
            "status": claim.status,
            "body": json_bytes(result),
        },
    )
