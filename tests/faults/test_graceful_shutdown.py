"""SIGTERM: the service stops accepting connections, lets in-flight requests finish within
SHUTDOWN_TIMEOUT, cancels (and so rolls back) what is still running after it, closes the pool
and exits 0. Every order a client saw acknowledged is stored, none half-written."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.checks import (
    assert_books_balance,
    assert_every_acknowledged_order_stored_once,
    assert_fault_answers,
    eventually,
    product_locked,
    sessions_of_the_service,
    stored_orders,
    waits_for_a_lock,
)
from tests.faults.service import Order, Service, Stream

pytestmark = pytest.mark.faults


async def refuses_connections(service: Service) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", service.port)
    except (ConnectionRefusedError, ConnectionResetError):
        # A connect that races the listener's close can be reset instead of refused.
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def no_sessions_left(cluster) -> bool:
    return sessions_of_the_service(cluster) == []


async def test_sigterm_mid_stream_keeps_every_acknowledged_order_and_no_half_one(
    cluster, start_service, demo
):
    # Generous limits: the slow order must not meet them, only the lock that the test lets go.
    service = await start_service(SHUTDOWN_TIMEOUT=10, REQUEST_TIMEOUT=30)
    assert (await service.login()).ok

    with product_locked(cluster, demo.anvil) as held:
        # An order still running when the signal comes: it waits for the product's lock.
        slow = Order(demo.other_customer, demo.anvil)
        slow_answer = asyncio.create_task(service.place_order(slow))
        assert await eventually(lambda: waits_for_a_lock(cluster), within=5)

        async with Stream(service, demo.customer, demo.seed) as stream:
            await stream.until_acknowledged(10)
            service.signal()  # SIGTERM
            assert await eventually(lambda: refuses_connections(service), within=3)
            held.release()  # the in-flight order may now finish, well within the timeout
            assert await service.exit_code(within=15) == 0

    assert (await slow_answer).status == 201
    # After the signal a request may also find the door closed (no answer at all); any
    # answer it got is a 2xx or a retryable 503.
    assert_fault_answers(a for a in stream.answers if a.status is not None)
    orders = [slow, *stream.orders]
    assert_every_acknowledged_order_stored_once(cluster, orders)
    assert_books_balance(cluster)
    assert await eventually(lambda: no_sessions_left(cluster), within=5), "pool not closed"


async def test_a_command_still_running_after_the_shutdown_timeout_is_rolled_back(
    cluster, start_service, demo
):
    service = await start_service(
        SHUTDOWN_TIMEOUT=1, REQUEST_TIMEOUT=30, DB_STATEMENT_TIMEOUT=30000
    )
    assert (await service.login()).ok
    stuck = Order(demo.other_customer, demo.anvil)

    with product_locked(cluster, demo.anvil):
        answer = asyncio.create_task(service.place_order(stuck))
        assert await eventually(lambda: waits_for_a_lock(cluster), within=5)
        service.signal()
        assert await service.exit_code(within=15) == 0
        assert (await answer).status in (None, 503)  # cut off, never acknowledged

    assert await eventually(lambda: no_sessions_left(cluster), within=5)
    assert stored_orders(cluster, [stuck]) == {}, "the cancelled order was written"
    assert_books_balance(cluster)
