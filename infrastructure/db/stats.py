"""Per-request database accounting, carried in a contextvar so logs and headers can report it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class DbStats:
    round_trips: int = 0
    hold_s: float = 0.0  # time connections were checked out
    wait_s: float = 0.0  # time spent waiting for the pool
    # How the principal was found, which decides whether authentication cost a round trip:
    # hit, miss, expired, bypass or off (infrastructure/repositories/identity_cache.py).
    auth_cache: str | None = None


current_stats: ContextVar[DbStats | None] = ContextVar("db_stats", default=None)


def begin_request() -> DbStats:
    stats = DbStats()
    current_stats.set(stats)
    return stats


def charge(stats: DbStats | None, spent: DbStats) -> None:
    """Add what work done on a request's behalf, in another task, cost the database."""
    if stats is not None:
        stats.round_trips += spent.round_trips
        stats.hold_s += spent.hold_s
        stats.wait_s += spent.wait_s
