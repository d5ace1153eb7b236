"""Reading the change feed: one page after a cursor, or a long poll that waits for one.

The wait holds nothing: each look at the feed is one read that releases its connection, and
between looks the caller steps out of whatever place it holds (the edge's admission gate).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from uuid import UUID

from domain.errors import CursorExpired
from domain.model.events import (
    MAX_WAIT_SECONDS,
    FeedPage,
    FeedQuery,
    check_types,
    decode_cursor,
    encode_cursor,
)
from domain.ports import EventReader, FeedWaker

StepAside = Callable[[], AbstractAsyncContextManager[object]]


class EventService:
    def __init__(self, reader: EventReader, waker: FeedWaker) -> None:
        self._reader = reader
        self._waker = waker

    async def page(
        self,
        tenant_id: UUID,
        after: str | None,
        types: tuple[str, ...] = (),
        limit: int = 100,
        wait: float = 0,
        step_aside: StepAside | None = None,
    ) -> FeedPage:
        """The events after `after` (an opaque cursor; None: the oldest kept), in commit order.
        With `wait`, an empty answer waits up to that many seconds for the first new event."""
        query = FeedQuery(decode_cursor(after) if after else None, check_types(types), limit)
        deadline = time.monotonic() + min(max(wait, 0), MAX_WAIT_SECONDS)
        stopping = False
        while True:
            mark = self._waker.mark(tenant_id)
            found = await self._reader.slice(tenant_id, query)
            if query.after is not None and query.after < found.purged_through:
                raise CursorExpired("the cursor points before the oldest event kept; start over")
            start = query.after if query.after is not None else found.purged_through
            if len(found.items) == limit:
                position = found.items[-1].position
            else:
                # Everything up to the newest committed position has been looked at (the
                # counter and the rows come from one snapshot): skip what the filter left out.
                position = max(start, found.last_position)
            remaining = deadline - time.monotonic()
            if found.items or remaining <= 0 or stopping:
                return FeedPage(found.items, encode_cursor(position))
            query = FeedQuery(position, query.types, limit)
            async with (step_aside or nullcontext)():
                stopping = not await self._waker.wait(tenant_id, mark, remaining)
