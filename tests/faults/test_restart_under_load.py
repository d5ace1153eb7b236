"""The database restarts while clients place orders and read: every answer is a 2xx or a
retryable 503, the service recovers by itself, and no order is lost or half-written."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.checks import assert_stream_came_through, sessions_of_the_service
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

    await assert_stream_came_through(cluster, service, stream, gone=before)
