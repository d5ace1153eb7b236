"""A libpq multi-host DATABASE_URL whose first host is down: the service walks the list itself
(aiopg cannot, aio-libs/aiopg#647), starts, and answers every request through the second."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import Demo
from tests.faults.service import API, Order, StartService
from tests.support.pgcluster import PgCluster, free_port


def url_form(cluster: PgCluster, form: str) -> str:
    down = free_port()  # nothing listens there
    if form == "url":
        hosts = f"127.0.0.1:{down},127.0.0.1:{cluster.port}"
        return f"postgresql://sales_app@{hosts}/sales?target_session_attrs=read-write"
    return (
        f"host=127.0.0.1,127.0.0.1 port={down},{cluster.port} dbname=sales user=sales_app"
        " target_session_attrs=read-write"
    )


@pytest.mark.parametrize("form", ["url", "key=value"])
async def test_with_the_first_listed_host_down_every_request_is_answered_by_the_second(
    cluster: PgCluster, start_service: StartService, demo: Demo, form: str
) -> None:
    service = await start_service(DATABASE_URL=url_form(cluster, form))
    assert (await service.login()).ok
    took = []
    for _ in range(10):
        for request in (
            service.get(f"{API}/products?limit=5"),
            service.get(f"{API}/orders?limit=5"),
            service.place_order(Order(demo.customer, demo.seed)),
        ):
            started = time.monotonic()
            answer = await request
            took.append(time.monotonic() - started)
            assert answer.ok, (answer.status, answer.body)
    # A generous bound: each would wait out a connect timeout per request if the dead
    # host were tried every time, and hang for good if the list were not walked at all.
    assert max(took) < 3, f"slowest answer {max(took):.2f}s"
    ready = await service.get("/readyz")
    assert ready.status == 200
