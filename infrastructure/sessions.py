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


# Login failure counts (issue 19) whose window ended a day ago and whose address is no longer
# trusted: they hold nothing back any more.
_PURGE_LOGIN_COUNTS = (
    "delete from login_throttle where tenant_id = %(tenant_id)s"
    " and window_start < now() - interval '1 day'"
    " and (trusted_until is null or trusted_until < now())"
)


def purge_stale_login_counts(owner_url: str) -> int:
    """Delete every tenant's login failure counts that no longer matter; how many."""
    return in_each_tenant(owner_url, _PURGE_LOGIN_COUNTS)
