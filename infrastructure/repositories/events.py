"""The change feed's storage: the outbox a UnitOfWork writes, and the one-trip feed read.

Ordering. Each tenant's positions come from its `event_counters` row, incremented by an
upsert whose row lock the writing transaction holds until COMMIT (the flush runs right
before it). A second writer of the tenant waits on that lock, so it takes its positions only
after the first has committed (PostgreSQL releases row locks after the commit is visible to
new snapshots). Positions therefore follow commit order, without gaps, and a reader that
walks `position > cursor` cannot skip a row that would commit later with a smaller position:
no such row can exist. The price is that event-writing commits of ONE tenant serialize for
the last round trips of their transactions, as orders already do on the invoice counter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.model.events import Event, FeedQuery, FeedSlice
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import raw
from infrastructure.encoding import json_bytes

CHANNEL = "sales_events"  # pg_notify payload: the tenant id (heard by infrastructure/feed_waker.py)

# Data-modifying CTEs run to completion whether or not the outer query reads them, and the
# notification is delivered on commit only: a rolled-back command wakes nobody.
_FLUSH = raw(
    "with counter as ("
    " insert into event_counters (tenant_id, last_position) values (%(tenant_id)s, %(n)s)"
    " on conflict (tenant_id) do update"
    " set last_position = event_counters.last_position + excluded.last_position"
    " returning last_position),"
    " stored as ("
    " insert into events (tenant_id, position, type, data)"
    " select %(tenant_id)s, counter.last_position - %(n)s + e.ord, e.type, e.data"
    " from counter, unnest(%(types)s::text[], %(datas)s::json[]) with ordinality"
    " as e(type, data, ord))"
    f" select pg_notify('{CHANNEL}', %(tenant_id)s::text)"
)

# One statement: where the feed stands (counter row, same snapshot) and the page after the
# cursor. Without a cursor the walk starts after the last purged position.
_SLICE = raw(
    "select c.last_position, c.purged_through,"
    " e.position, e.id, e.type, e.occurred_at, e.data::text"
    " from (select %(tenant_id)s::uuid as tenant_id) t"
    " left join event_counters c on c.tenant_id = t.tenant_id"
    " left join lateral ("
    " select position, id, type, occurred_at, data from events"
    " where events.tenant_id = %(tenant_id)s"
    " and position > coalesce(%(after)s, c.purged_through, 0)"
    " and (%(all_types)s or type = any(%(types)s::text[]))"
    " order by position limit %(limit)s) e on true"
    " order by e.position"
)


class EventOutbox:
    """The EventWriter port of one UnitOfWork: stages events, stores them at commit."""

    def __init__(self, on_written: Callable[[str], None] | None = None) -> None:
        self._staged: list[tuple[str, str]] = []
        self._on_written = on_written

    def record(self, type: str, data: object) -> None:
        # Encoded now, with the one encoding responses use: the event says what the API said.
        self._staged.append((type, json_bytes(data).decode()))

    def flush(self) -> tuple[str, dict[str, Any]] | None:
        """The statement that stores the staged events (None: nothing staged). The UnitOfWork
        sends it in the same message as its COMMIT, so the counter's lock is held for no
        round trip of its own and a command with events costs no extra trip."""
        if not self._staged:
            return None
        params = {
            "n": len(self._staged),
            "types": [t for t, _ in self._staged],
            "datas": [d for _, d in self._staged],
        }
        return _FLUSH.text, params

    def committed(self) -> None:
        """Count what the committed transaction stored (a rollback stores nothing)."""
        if self._on_written is not None:
            for event_type, _ in self._staged:
                self._on_written(event_type)


class EventReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def slice(self, tenant_id: UUID, query: FeedQuery) -> FeedSlice:
        params = {
            "after": query.after,
            "all_types": not query.types,
            "types": list(query.types),
            "limit": query.limit,
        }
        rows = await self._reads.fetch_all(tenant_id, _SLICE, params)
        last, purged = (rows[0][0] or 0, rows[0][1] or 0) if rows else (0, 0)
        return FeedSlice([_event(r) for r in rows if r[2] is not None], last, purged)


def _event(row: Any) -> Event:
    _, _, position, ident, type_, occurred_at, data = row
    # The stored JSON goes out as it is: no decode and re-encode per event.
    return Event(ident, type_, occurred_at, data, position)
