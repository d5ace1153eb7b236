"""The outbox: events commit with their command or not at all, and the feed walks them in
commit order without a gap or a repeat, even while writers race."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
import pytest

from domain.model.customers import NewCustomer
from domain.model.events import FeedQuery
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import raw
from infrastructure.repositories.events import EventReadRepository
from infrastructure.unit_of_work import PgUnitOfWork
from tests.integration.conftest import assert_all_idle


def new_customer(tag: str = "feed") -> NewCustomer:
    return NewCustomer("Feed Test", f"{tag}-{uuid.uuid4().hex[:10]}@example.test")


async def add_customer(db, tenant_id, tag: str = "feed"):
    async with PgUnitOfWork(db, tenant_id) as uow:
        customer = await uow.customers.add(new_customer(tag))
        uow.events.record("customer.created", customer)
        await uow.commit(customer)
    return customer


async def walk(feed: EventReadRepository, tenant_id, after: int | None = None, limit: int = 100):
    """Every event after `after`, page by page, and the position to walk on from."""
    events = []
    while True:
        page = await feed.slice(tenant_id, FeedQuery(after, (), limit))
        events += page.items
        if len(page.items) < limit:
            return events, max([after or 0, page.last_position])
        after = page.items[-1].position


def customer_ids(events) -> list[str]:
    return [orjson.loads(e.data_json)["id"] for e in events]


async def test_a_rolled_back_command_emits_nothing_and_a_committed_one_exactly_once(
    db, tenant, seeder
):
    async with PgUnitOfWork(db, tenant.id) as uow:
        await uow.customers.add(new_customer())
        uow.events.record("customer.created", {"id": "never"})
    with pytest.raises(RuntimeError):
        async with PgUnitOfWork(db, tenant.id) as uow:
            uow.events.record("customer.created", {"id": "never either"})
            raise RuntimeError("the command failed")
    committed = await add_customer(db, tenant.id)

    events, _ = await walk(EventReadRepository(TenantReads(db)), tenant.id)

    assert [e.type for e in events] == ["customer.created"]
    assert customer_ids(events) == [str(committed.id)]
    assert seeder.count(tenant, "events") == 1
    assert_all_idle(db)


async def test_a_transaction_that_took_its_position_first_is_never_skipped(make_db, tenant, seeder):
    """The trap: A takes a position, B comes later. If B could commit first with a larger
    position, a reader between the commits would move its cursor past A. Here B cannot take
    a position until A has committed, so the reader sees nothing of either, then both, A first."""
    db = make_db(maxsize=3)
    feed = EventReadRepository(TenantReads(db))
    a = PgUnitOfWork(db, tenant.id)
    await a.__aenter__()
    a.events.record("customer.created", {"id": "A"})
    text, params = a._outbox.flush()
    await a.writes.execute(raw(text), params)  # A holds its position, uncommitted

    async def b() -> None:
        async with PgUnitOfWork(db, tenant.id) as uow:
            uow.events.record("customer.created", {"id": "B"})
            await uow.commit()

    b_task = asyncio.create_task(b())
    await asyncio.sleep(0.3)
    between, cursor = await walk(feed, tenant.id)
    assert between == [] and cursor == 0
    assert not b_task.done(), "B must wait for A's position to commit"

    a._committed = True
    await a._conn.execute("commit")
    await a.__aexit__(None, None, None)
    await asyncio.wait_for(b_task, 10)

    after, cursor = await walk(feed, tenant.id, cursor)
    assert [orjson.loads(e.data_json)["id"] for e in after] == ["A", "B"]
    assert [e.position for e in after] == [1, 2] and cursor == 2


@pytest.mark.slow
async def test_twenty_racing_writers_are_walked_exactly_once_in_commit_order(
    make_db, tenant, seeder
):
    writers_db = make_db(maxsize=20, acquire_timeout=10.0)
    feed = EventReadRepository(TenantReads(make_db(maxsize=1)))
    committed: list[str] = []
    walked = []
    stop_at = time.monotonic() + 3.0  # bounded: 20 writers for 3 s on a busy 2-core machine

    async def writer(n: int) -> list[str]:
        mine = []
        while time.monotonic() < stop_at:
            mine.append(str((await add_customer(writers_db, tenant.id, f"w{n}")).id))
        return mine

    async def walker() -> None:
        cursor = None
        while time.monotonic() < stop_at + 1:
            events, cursor = await walk(feed, tenant.id, cursor, limit=7)
            walked.extend(events)
            await asyncio.sleep(0.01)
        events, _ = await walk(feed, tenant.id, cursor)
        walked.extend(events)

    *per_writer, _ = await asyncio.gather(*(writer(n) for n in range(20)), walker())
    for mine in per_writer:
        committed.extend(mine)

    ids = customer_ids(walked)
    assert len(ids) == len(set(ids)), "no event twice"
    assert sorted(ids) == sorted(committed), "no event missed"
    assert [e.position for e in walked] == list(range(1, len(walked) + 1)), "gapless, in order"
    for mine in per_writer:  # each writer's commits appear in the order it made them
        assert [i for i in ids if i in set(mine)] == mine
    assert len(committed) >= 20
