"""An admin terminates the service's sessions (pg_terminate_backend by application_name): dead
connections are dropped, reads are retried, commands answer 503 at worst and are never half
done, and the pool refills."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.checks import (
    assert_every_acknowledged_order_stored_once,
    assert_pool_refilled,
    assert_stream_came_through,
)
from tests.faults.service import API, APPLICATION_NAME, Order, Stream

pytestmark = pytest.mark.faults


async def test_after_its_idle_sessions_are_terminated_the_next_requests_all_succeed(
    cluster, start_service, demo
):
    service = await start_service()
    assert (await service.login()).ok
    warm = await asyncio.gather(*(service.get(f"{API}/products") for _ in range(5)))
    assert all(a.ok for a in warm)
    terminated = cluster.terminate_backends(APPLICATION_NAME)
    assert terminated

    order = Order(demo.customer, demo.seed)
    answers = await asyncio.gather(
        *(service.get(f"{API}/products") for _ in range(5)), service.place_order(order)
    )

    assert [a.status for a in answers] == [200] * 5 + [201]
    assert assert_pool_refilled(cluster).isdisjoint(terminated)
    assert_every_acknowledged_order_stored_once(cluster, [order])


async def test_sessions_terminated_mid_stream_answer_2xx_or_503_and_leave_every_order_whole(
    cluster, start_service, demo
):
    service = await start_service()
    assert (await service.login()).ok

    # More clients than connections, so that terminations also hit sessions mid-command.
    async with Stream(service, demo.customer, demo.seed, clients=8) as stream:
        await stream.until_acknowledged(10)
        terminated: set[int] = set()
        for _ in range(5):
            terminated |= cluster.terminate_backends(APPLICATION_NAME)
            await asyncio.sleep(0.15)

    assert terminated
    await assert_stream_came_through(cluster, service, stream, gone=terminated)
