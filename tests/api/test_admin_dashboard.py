"""The admin port's /dashboard.json: a history bounded by its window, saturation named while the
pool is held, the routes table, and the PostgreSQL panel without a monitoring role."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from typing import Any

from app.edge.keys import CONTAINER
from tests.conftest import auth_headers


async def document(admin: Any, query: str = "") -> dict[str, Any]:
    response = await admin.get("/dashboard.json" + query)
    assert response.status == 200
    data: dict[str, Any] = await response.json()
    return data


async def until(admin: Any, check: Any, within: float = 20.0, query: str = "") -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        doc = await document(admin, query)
        if check(doc):
            return doc
        assert time.monotonic() < deadline, "the dashboard never showed it"
        await asyncio.sleep(0.1)


async def test_the_history_stays_at_its_window_however_many_samples_were_taken(
    make_client, admin_of
):
    # A 2 s window sampled every 0.1 s holds 20 samples; wait for more than twice that.
    client = await make_client(dashboard_history_seconds=2.0, dashboard_sample_seconds=0.1)
    admin = await admin_of(client)
    doc = await until(admin, lambda d: d["history"]["taken"] > 45, within=30.0)
    history = doc["history"]
    assert doc["minute_ago"]["total"]["worker"] == "all"  # a baseline for a page opening
    assert history["capacity"] == 20
    assert history["samples"] == 20
    assert len(history["t"]) == 20
    assert all(len(values) == 20 for values in history["series"].values())
    assert history["t"] == sorted(history["t"])

    since = history["t"][-5]
    polled = await document(admin, f"?since={since}")
    later = polled["history"]
    assert "minute_ago" not in polled
    assert len(later["t"]) >= 4
    assert all(t > since for t in later["t"])


async def test_a_held_pool_is_named_as_saturated_with_the_line_it_concerns(make_client, admin_of):
    client = await make_client(db_pool_max=2, dashboard_sample_seconds=0.1)
    admin = await admin_of(client)
    db = client.app[CONTAINER].db
    quiet = await until(admin, lambda d: d["history"]["samples"] >= 2)
    assert quiet["saturation"] == []
    async with AsyncExitStack() as held:
        for _ in range(2):
            await held.enter_async_context(db.connection("test"))
        doc = await until(admin, lambda d: d["saturation"])
    assert [(f["key"], f["series"]) for f in doc["saturation"]] == [
        ("pool_busy", "worker.1.in_use")
    ]
    assert doc["thresholds"]["pool_busy"]["limit"] == 0.8
    assert doc["history"]["series"]["worker.1.max"][-1] == 2


async def test_the_routes_table_counts_a_routes_requests_and_errors_in_the_window(
    make_client, admin_of, tenant, seeder
):
    client = await make_client(dashboard_sample_seconds=0.1)
    admin = await admin_of(client)
    await until(admin, lambda d: d["history"]["samples"] >= 1)
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    for _ in range(3):
        assert (await client.get("/api/sales/customers", headers=headers)).status == 200
    missing = "/api/sales/customers/00000000-0000-4000-8000-000000000000"
    assert (await client.get(missing, headers=headers)).status == 404

    def listed(doc: dict[str, Any]) -> bool:  # once a sample has seen all four requests
        rows = {r["route"]: r for r in doc["routes"]["by_hold"]}
        return "GET /api/sales/customers/{id}" in rows and "GET /api/sales/customers" in rows

    doc = await until(admin, listed, query="?window=60")
    rows = {r["route"]: r for r in doc["routes"]["by_hold"]}
    assert rows["GET /api/sales/customers"]["requests"] == 3
    assert rows["GET /api/sales/customers"]["hold"] > 0
    assert rows["GET /api/sales/customers/{id}"]["4xx"] == 1
    assert doc["routes"]["window_s"] == 60


async def test_bad_numbers_in_the_query_are_refused(make_client, admin_of):
    admin = await admin_of(await make_client())
    for query in ("?since=yesterday", "?window=-5", "?since=nan"):
        assert (await admin.get("/dashboard.json" + query)).status == 400


async def test_without_a_monitoring_role_the_postgres_panel_says_so(make_client, admin_of):
    admin = await admin_of(await make_client())
    response = await admin.get("/dashboard/postgres.json")
    assert response.status == 200
    assert await response.json() == {"configured": False}


async def test_the_page_and_its_charting_library_come_from_the_admin_port(make_client, admin_of):
    admin = await admin_of(await make_client())
    page = await (await admin.get("/dashboard")).text()
    assert 'src="dashboard/uPlot.iife.min.js"' in page
    script = await admin.get("/dashboard/uPlot.iife.min.js")
    assert script.status == 200
    assert (await script.text()).startswith("/*! https://github.com/leeoniya/uPlot")
    assert (await admin.get("/dashboard/uPlot.min.css")).status == 200
    assert (await admin.get("/dashboard/other.js")).status == 404
