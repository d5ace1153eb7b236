"""The database restarts while clients place orders and read: every answer is a 2xx or a
retryable 503, the service recovers by itself, and no order is lost or half-written."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.checks import (
    assert_books_balance,
    assert_every_acknowledged_order_stored_once,
    assert_fault_answers,
    assert_pool_refilled,
    recovers,
    resend_unacknowledged,
    sessions_of_the_service,
)
from tests.faults.service import Stream

pytestmark = pytest.mark.faults


async def test_a_restart_under_load_answers_2xx_or_503_and_leaves_every_order_whole(
    cluster, start_service, demo
):
    service = await start_service()
    assert (await service.login()).ok
    before = {pid for pid, _, _ in sessions_of_the_service(cluster)}

    async with Stream(service, demo.customer, demo.seed) as stream:
        await stream.until_acknowledged(10)
        await asyncio.to_thread(cluster.restart)  # pg_ctl restart -m fast
        await asyncio.sleep(1)  # the load goes on while the database comes back

    assert await recovers(service, demo.customer, demo.seed, stream.orders, stream.answers)
    assert_fault_answers(stream.answers)  # the stream's and the recovery's
    assert assert_pool_refilled(cluster).isdisjoint(before), "pre-restart sessions in use"
    # A 503 command committed completely or not at all: resent with its key, each one
    # is either replayed or placed now, and ends up stored exactly once.
    await resend_unacknowledged(service, stream.orders)
    assert_every_acknowledged_order_stored_once(cluster, stream.orders)
    assert_books_balance(cluster)
