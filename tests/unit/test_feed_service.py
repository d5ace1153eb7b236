"""EventService over a fake feed and the real FeedWaker: cursors, filters, long polls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from domain.errors import CursorExpired
from domain.model.events import Event, FeedQuery, FeedSlice, decode_cursor, encode_cursor
from domain.ports import EventReader
from domain.services.events import EventService
from infrastructure.feed_waker import FeedWaker

TENANT = uuid4()


class FakeEventReader(EventReader):
    """The EventReader port over a list; counts its reads."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.purged_through = 0
        self.reads = 0

    def add(self, type_: str = "customer.created") -> Event:
        event = Event(uuid4(), type_, datetime.now(UTC), "{}", len(self.events) + 1)
        self.events.append(event)
        return event

    async def slice(self, tenant_id: UUID, query: FeedQuery) -> FeedSlice:
        self.reads += 1
        after = query.after if query.after is not None else self.purged_through
        found = [
            e
            for e in self.events
            if e.position > after and (not query.types or e.type in query.types)
        ]
        return FeedSlice(found[: query.limit], len(self.events), self.purged_through)


Feed = tuple[FakeEventReader, FeedWaker, EventService]


@pytest.fixture
def feed() -> Feed:
    reader = FakeEventReader()
    waker = FeedWaker(lambda: True)
    return reader, waker, EventService(reader, waker)


async def test_a_filtered_walk_moves_its_cursor_past_what_it_skipped(feed: Feed) -> None:
    reader, _, service = feed
    reader.add("customer.created")
    reader.add("order.placed")
    page = await service.page(TENANT, None, ("invoice.paid",))
    assert page.items == [] and decode_cursor(page.next) == 2


async def test_a_cursor_before_the_purge_is_expired(feed: Feed) -> None:
    reader, _, service = feed
    reader.add()
    reader.add()
    reader.purged_through = 1
    with pytest.raises(CursorExpired):
        await service.page(TENANT, encode_cursor(0))


async def test_a_long_poll_answers_with_the_event_its_notification_announced(feed: Feed) -> None:
    reader, waker, service = feed
    poll = asyncio.create_task(service.page(TENANT, None, wait=30))
    await asyncio.sleep(0.05)
    assert not poll.done()
    event = reader.add()
    waker.notify(str(TENANT))
    page = await asyncio.wait_for(poll, 5)
    assert page.items == [event]


async def test_a_notification_between_the_read_and_the_wait_is_not_slept_through(
    feed: Feed,
) -> None:
    reader, waker, service = feed
    original = reader.slice

    async def slice_then_commit(tenant_id: UUID, query: FeedQuery) -> FeedSlice:
        found = await original(tenant_id, query)
        if reader.reads == 1:  # a commit lands right after the first read answered
            reader.add()
            waker.notify(str(TENANT))
        return found

    reader.slice = slice_then_commit  # type: ignore[method-assign]  # a commit lands mid-read
    page = await asyncio.wait_for(service.page(TENANT, None, wait=30), 5)
    assert len(page.items) == 1


async def test_stopping_the_worker_answers_every_long_poll_now(feed: Feed) -> None:
    _, waker, service = feed
    poll = asyncio.create_task(service.page(TENANT, None, wait=30))
    await asyncio.sleep(0.05)
    waker.close()
    page = await asyncio.wait_for(poll, 5)
    assert page.items == []
