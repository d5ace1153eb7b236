"""Wakes long polls of the change feed when their tenant's feed has news.

Every event-writing commit notifies channel `sales_events` with its tenant id
(infrastructure/repositories/events.py); the worker's listener (infrastructure/db/listener.py,
the connection the principal cache already has, outside the pool) hands each payload here.
While the listener is not listening, notifications may be missed, so a wait lasts at most
`POLL_WHILE_DEAF` seconds and the feed is simply read again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from uuid import UUID

POLL_WHILE_DEAF = 0.5


class FeedWaker:
    def __init__(self, listening: Callable[[], bool]) -> None:
        self._listening = listening
        self._epoch = 0  # bumped when listening (re)starts: anything may have been missed
        self._counts: dict[str, int] = {}
        self._events: dict[str, asyncio.Event] = {}
        self._closing = False

    def notify(self, payload: str) -> None:
        """A commit of this tenant (payload: its id) stored events."""
        self._counts[payload] = self._counts.get(payload, 0) + 1
        event = self._events.pop(payload, None)
        if event is not None:
            event.set()

    def wake_all(self) -> None:
        self._epoch += 1
        events, self._events = self._events, {}
        for event in events.values():
            event.set()

    def close(self) -> None:
        """The worker is stopping: every long poll answers now, within the drain window."""
        self._closing = True
        self.wake_all()

    def mark(self, tenant_id: UUID) -> int:
        """Taken BEFORE reading the feed: a wait given it returns at once if news came since,
        so a commit between the read and the wait is never slept through."""
        return self._epoch + self._counts.get(str(tenant_id), 0)

    async def wait(self, tenant_id: UUID, mark: int, seconds: float) -> bool:
        if self._closing:
            return False
        if not self._listening():
            await asyncio.sleep(min(seconds, POLL_WHILE_DEAF))
            return not self._closing
        if self.mark(tenant_id) != mark:
            return True
        # One Event per tenant, shared by its waiters and replaced once set: a notification
        # wakes every poll of the tenant in this worker at once.
        event = self._events.setdefault(str(tenant_id), asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()
        return not self._closing
