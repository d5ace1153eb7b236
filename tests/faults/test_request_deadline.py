"""A command that outlives the request deadline is cancelled: the client gets a retryable 503
in time, the transaction rolls back, and its connection never serves another request."""

from __future__ import annotations

import pytest

from tests.faults.checks import (
    assert_books_balance,
    assert_fault_answers,
    assert_pool_refilled,
    eventually,
    product_locked,
    sessions_of_the_service,
    stored_orders,
    waits_for_a_lock,
)
from tests.faults.service import Order

pytestmark = pytest.mark.faults


async def test_an_order_past_the_request_deadline_answers_503_and_leaves_nothing_behind(
    cluster, start_service, demo
):
    # The deadline must strike first, not the statement timeout.
    service = await start_service(REQUEST_TIMEOUT=1, DB_STATEMENT_TIMEOUT=30000)
    assert (await service.login()).ok
    late = Order(demo.other_customer, demo.anvil)

    with product_locked(cluster, demo.anvil):
        answer = await service.place_order(late)  # the client timeout would fail a hang
        # The server cannot know the client left: the abandoned statement still waits.
        assert await waits_for_a_lock(cluster)

    assert answer.status == 503 and answer.body["type"].endswith("/request-timeout")
    assert_fault_answers([answer])

    async def settled() -> bool:
        sessions = sessions_of_the_service(cluster)
        return all(state == "idle" for _, state, _ in sessions)

    assert await eventually(settled, within=5), sessions_of_the_service(cluster)
    assert stored_orders(cluster, [late]) == {}, "the cancelled order was written"
    on_time = Order(demo.other_customer, demo.anvil)
    assert (await service.place_order(on_time)).status == 201
    assert stored_orders(cluster, [on_time]) == {on_time.note: 1}
    assert_pool_refilled(cluster)
    assert_books_balance(cluster)
