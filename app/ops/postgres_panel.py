"""The dashboard's PostgreSQL panel: the service's sessions as PostgreSQL sees them.

Read on demand (only while a page asks), at most once a second however many pages ask: a
request within a second of the last read gets that read, and callers that arrive together
share one query. Without MONITOR_DATABASE_URL the panel says so and nothing is read.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from infrastructure.db.activity import ActivityMonitor, ActivityUnavailable

MAX_AGE_S = 1.0
QUERY_CHARS = 160


class PostgresPanel:
    def __init__(self, monitor: ActivityMonitor | None) -> None:
        self._monitor = monitor
        self._last: dict[str, Any] | None = None
        self._read_at = -MAX_AGE_S
        self._lock = asyncio.Lock()

    async def view(self) -> dict[str, Any]:
        if self._monitor is None:
            return {"configured": False}
        async with self._lock:
            if self._last is None or time.monotonic() - self._read_at >= MAX_AGE_S:
                self._last = await self._read(self._monitor)
                self._read_at = time.monotonic()
            return self._last

    async def close(self) -> None:
        if self._monitor is not None:
            await self._monitor.close()

    @staticmethod
    async def _read(monitor: ActivityMonitor) -> dict[str, Any]:
        try:
            sessions = await monitor.sessions()
        except ActivityUnavailable as exc:
            return {"configured": True, "time": time.time(), "error": str(exc)}
        return {"configured": True, "time": time.time(), **summarize(sessions)}


def summarize(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Sessions by state, the longest idle in transaction and the longest active, and every
    backend waiting on a lock with the sessions that block it."""
    by_pid = {s["pid"]: s for s in sessions}
    blocked = []
    for s in sessions:
        if s["blocked_by"]:
            blockers = [_brief(by_pid.get(pid, {"pid": pid})) for pid in s["blocked_by"]]
            blocked.append({**_brief(s), "waiting_s": s["query_age"], "blocked_by": blockers})
    return {
        "states": dict(Counter(s["state"] or "unknown" for s in sessions)),
        "longest_idle_in_transaction": _longest(sessions, "idle in transaction", "state_age"),
        "longest_active": _longest(sessions, "active", "query_age"),
        "blocked": sorted(blocked, key=lambda b: -(b["waiting_s"] or 0)),
    }


def _longest(sessions: list[dict[str, Any]], state: str, age: str) -> dict[str, Any] | None:
    found = [s for s in sessions if s["state"] == state and s[age] is not None]
    if not found:
        return None
    longest = max(found, key=lambda s: s[age])
    return {**_brief(longest), "age_s": longest[age]}


def _brief(session: dict[str, Any]) -> dict[str, Any]:
    keys = ("pid", "role", "state", "wait_event_type", "wait_event", "xact_age")
    return {
        **{key: session.get(key) for key in keys},
        "query": last_statement(session.get("query")),
    }


def last_statement(query: str | None, chars: int = QUERY_CHARS) -> str | None:
    """The statement a session runs or ran last, without the tenant and timeout prelude the
    service sends ahead of it in the same string (infrastructure/db/tenancy.py); for display
    only, so a `;` inside a literal merely shortens it."""
    if query is None:
        return None
    parts = [part.strip() for part in query.split(";") if part.strip()]
    statement = parts[-1] if parts else query.strip()
    return statement if len(statement) <= chars else statement[: chars - 1] + "…"
