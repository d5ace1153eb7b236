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
