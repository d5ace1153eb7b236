"""Housekeeping of login sessions: expired and revoked ones are deleted by an operator job."""

from __future__ import annotations

from infrastructure.db.owner import in_each_tenant

_PURGE = (
    "delete from sessions where tenant_id = %(tenant_id)s"
    " and (expires_at <= now() or revoked_at is not null)"
)


def purge_dead_sessions(owner_url: str) -> int:
    """Delete every tenant's expired and revoked sessions; returns how many were deleted."""
    return in_each_tenant(owner_url, _PURGE)
