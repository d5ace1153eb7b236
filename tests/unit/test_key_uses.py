"""API keys' last use, noted on the request and written later in batches, on in-memory fakes."""

from __future__ import annotations

import asyncio
import importlib
import time
from datetime import timedelta
from uuid import uuid4

from infrastructure.key_uses import MAX_BATCH, KeyUses
from tests.unit.fakes import FakeUnitOfWork, FakeUnitOfWorkFactory, FixedClock, Store


async def test_many_uses_of_a_key_become_one_write_of_the_latest_time() -> None:
    store, clock = Store(), FixedClock()
    uows = FakeUnitOfWorkFactory(store, clock)
    uses, tenant_id, key_id = KeyUses(uows, every=60), uuid4(), uuid4()
    for minutes in range(5):
        uses.note(tenant_id, key_id, clock.now() + timedelta(minutes=minutes))

    await uses.flush()

    assert uows.commits == 1 and uses.pending == 0
    assert store.api_key_used == {key_id: clock.now() + timedelta(minutes=4)}


async def test_each_tenants_keys_are_written_in_a_unit_of_work_of_that_tenant() -> None:
    store, clock = Store(), FixedClock()
    uows = FakeUnitOfWorkFactory(store, clock)
    uses = KeyUses(uows, every=60)
    tenants = [uuid4(), uuid4()]
    for tenant_id in tenants:
        uses.note(tenant_id, uuid4(), clock.now())
        uses.note(tenant_id, uuid4(), clock.now())

    await uses.flush()

    assert sorted(uow.tenant_id for uow in uows.opened) == sorted(tenants)
    assert uows.commits == 2 and len(store.api_key_used) == 4


class FailingUnitOfWork(FakeUnitOfWork):
    async def commit(self, result: object = None) -> None:
        raise ConnectionError("the database went away")


async def test_a_failed_write_keeps_the_uses_for_the_next_round_and_raises_nothing() -> None:
    store, clock = Store(), FixedClock()
    uses = KeyUses(FakeUnitOfWorkFactory(store, clock, FailingUnitOfWork), every=60)
    tenant_id, key_id = uuid4(), uuid4()
    uses.note(tenant_id, key_id, clock.now())

    await uses.flush()

    assert uses.pending == 1 and store.api_key_used == {}
    retry = FakeUnitOfWorkFactory(store, clock)
    uses._uow = retry  # the database is back
    await uses.flush()
    assert store.api_key_used == {key_id: clock.now()}


async def test_a_batch_stays_under_the_row_count_at_which_the_trigger_tells_every_cache() -> None:
    trigger = importlib.import_module("infrastructure.migrations.versions.0006_auth_notify")
    assert trigger._MANY >= MAX_BATCH
    store, clock = Store(), FixedClock()
    uows = FakeUnitOfWorkFactory(store, clock)
    uses, tenant_id = KeyUses(uows, every=60), uuid4()
    for _ in range(MAX_BATCH + 1):
        uses.note(tenant_id, uuid4(), clock.now())

    await uses.flush()

    assert uows.commits == 2 and len(store.api_key_used) == MAX_BATCH + 1


async def test_the_background_task_writes_what_was_noted_and_close_writes_the_rest() -> None:
    store, clock = Store(), FixedClock()
    uses = KeyUses(FakeUnitOfWorkFactory(store, clock), every=0.01)
    tenant_id = uuid4()
    first, last = uuid4(), uuid4()
    uses.start()
    uses.note(tenant_id, first, clock.now())
    deadline = time.monotonic() + 5
    while first not in store.api_key_used:
        assert time.monotonic() < deadline, "the background task wrote nothing within 5 s"
        await asyncio.sleep(0.01)
    uses.note(tenant_id, last, clock.now())
    await uses.close()
    assert set(store.api_key_used) == {first, last}
