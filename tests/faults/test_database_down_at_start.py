"""The database is down when the service starts: it starts anyway, says it is not ready, answers
503 with Retry-After, and serves as soon as the database is up, without a restart."""

from __future__ import annotations

import pytest

from domain.model.tokens import new_session_token
from tests.faults.checks import (
    assert_books_balance,
    assert_every_acknowledged_order_stored_once,
    assert_fault_answers,
    eventually,
    sessions_of_the_service,
)
from tests.faults.service import API, TENANT, Order

pytestmark = pytest.mark.faults


async def test_the_service_starts_without_its_database_and_serves_once_it_is_up(
    cluster, start_service, demo
):
    cluster.stop()
    service = await start_service()

    assert (await service.get("/healthz")).status == 200  # alive: the process is up
    not_ready = await service.get("/readyz")
    assert not_ready.status == 503 and not_ready.headers.get("Retry-After")
    service.headers = {"X-Tenant": TENANT, "Authorization": f"Bearer {new_session_token()}"}
    during_outage = [
        await service.login(),
        await service.get(f"{API}/products"),
        await service.place_order(Order(demo.customer, demo.seed)),
    ]
    assert [a.status for a in during_outage] == [503, 503, 503]
    assert_fault_answers(during_outage)
    assert all(
        a.headers["Content-Type"].startswith("application/problem+json") for a in during_outage
    )

    cluster.start()

    async def ready() -> bool:
        return (await service.get("/readyz")).status == 200

    assert await eventually(ready, within=10), "not ready after the database came back"
    assert (await service.login()).ok
    assert (await service.get(f"{API}/products")).status == 200
    order = Order(demo.customer, demo.seed)
    assert (await service.place_order(order)).status == 201
    assert sessions_of_the_service(cluster), "the pool opened no connection"
    assert_every_acknowledged_order_stored_once(cluster, [order])
    assert_books_balance(cluster)
