"""The dashboard over HTTP: every number equals what the test put in, for the caller's tenant only."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import structlog
from structlog.testing import capture_logs

from tests.conftest import until_listening
from tests.support.sales import API, headers_for, placed_order, product

DASHBOARD = f"{API}/dashboard"


def old_order(seeder, tenant, customer, total, days_ago, invoice_status="open"):
    """A placed order from `days_ago` days back, with its invoice, written straight to the
    database: the API can only place orders now."""
    seeder.run(
        tenant.id,
        "with o as ("
        "  insert into orders (tenant_id, customer_id, total, currency, created_at)"
        "  values (%(t)s, %(c)s, %(total)s, 'USD', now() - make_interval(days => %(days)s))"
        "  returning id, tenant_id, total, created_at)"
        " insert into invoices (tenant_id, order_id, number, amount, currency, status, issued_at)"
        " select tenant_id, id, %(number)s, total, 'USD', %(status)s, created_at from o",
        {
            "t": str(tenant.id),
            "c": customer,
            "total": total,
            "days": days_ago,
            "number": f"OLD-{uuid.uuid4().hex[:8]}",
            "status": invoice_status,
        },
    )


async def test_the_dashboard_shows_exactly_what_the_tenant_has(
    client, tenant, other_tenant, seeder
):
    admin, sales = headers_for(seeder, tenant), headers_for(seeder, tenant, role="sales")
    customers = [seeder.customer(tenant) for _ in range(3)]
    plenty = product(seeder, tenant, stock=10, unit_price="2.50")
    dimes = product(seeder, tenant, stock=4, unit_price="0.10", sku="DIME", name="Dimes")
    empty = product(seeder, tenant, stock=0, sku="EMPTY", name="Empty")
    product(seeder, tenant, stock=6)  # above the threshold of 5
    product(seeder, tenant, stock=1, active=False)  # counted, but never "low stock"

    await placed_order(client, sales, customers[0], (plenty, 2))  # 5.00
    cancelled = await placed_order(client, sales, customers[1], (plenty, 1))  # 2.50
    assert (await client.post(f"{API}/orders/{cancelled['id']}/cancel", headers=sales)).ok
    paid_today = await placed_order(client, sales, customers[2], (dimes, 3))  # 0.30
    paid = await client.post(f"{API}/invoices/{paid_today['invoice']['id']}/pay", headers=sales)
    assert paid.ok
    old_order(seeder, tenant, customers[0], "100.00", days_ago=10)
    old_order(seeder, tenant, customers[0], "1000.00", days_ago=40, invoice_status="paid")
    # Another tenant's numbers must not leak in.
    theirs = seeder.customer(other_tenant)
    await placed_order(
        client, headers_for(seeder, other_tenant), theirs, (product(seeder, other_tenant), 1)
    )
    old_order(seeder, other_tenant, theirs, "7.00", days_ago=1)

    resp = await client.get(DASHBOARD, headers=admin)
    assert resp.status == 200
    assert await resp.json() == {
        "customers": 3,
        "products": 5,
        "low_stock": [
            {"id": str(empty), "sku": "EMPTY", "name": "Empty", "stock": 0},
            {"id": str(dimes), "sku": "DIME", "name": "Dimes", "stock": 1},
        ],
        "orders_placed": 4,
        "orders_cancelled": 1,
        "revenue_today": "5.30",
        "revenue_30d": "105.30",
        "revenue_total": "1105.30",
        "open_invoices": 2,
        "open_invoices_amount": "105.00",
        "currency": "USD",
    }


async def test_low_stock_lists_the_ten_lowest_active_products_lowest_first(client, tenant, seeder):
    low = {product(seeder, tenant, stock=n % 6): n % 6 for n in range(12)}
    product(seeder, tenant, stock=0, active=False)
    body = await (await client.get(DASHBOARD, headers=headers_for(seeder, tenant))).json()
    stocks = [item["stock"] for item in body["low_stock"]]
    assert stocks == sorted(low.values())[:10]
    assert all(low[uuid.UUID(item["id"])] == item["stock"] for item in body["low_stock"])


async def test_a_new_tenant_sees_zeros_whatever_other_tenants_have(
    client, tenant, other_tenant, seeder
):
    theirs = seeder.customer(other_tenant)
    await placed_order(
        client, headers_for(seeder, other_tenant), theirs, (product(seeder, other_tenant), 1)
    )
    body = await (await client.get(DASHBOARD, headers=headers_for(seeder, tenant))).json()
    assert body == {
        "customers": 0,
        "products": 0,
        "low_stock": [],
        "orders_placed": 0,
        "orders_cancelled": 0,
        "revenue_today": "0.00",
        "revenue_30d": "0.00",
        "revenue_total": "0.00",
        "open_invoices": 0,
        "open_invoices_amount": "0.00",
        "currency": "USD",
    }


async def test_with_the_cache_on_each_tenant_still_sees_only_its_own_figures(
    make_client, tenant, other_tenant, seeder
):
    client = await make_client(dashboard_cache_ttl=60)
    for _ in range(2):
        seeder.customer(tenant)
    seeder.customer(other_tenant)

    ours = await (await client.get(DASHBOARD, headers=headers_for(seeder, tenant))).json()
    theirs = await (await client.get(DASHBOARD, headers=headers_for(seeder, other_tenant))).json()
    ours_again = await (await client.get(DASHBOARD, headers=headers_for(seeder, tenant))).json()

    assert (ours["customers"], theirs["customers"]) == (2, 1)
    assert ours_again == ours, "within the TTL the worker answers from its cache"


async def test_a_dashboard_read_from_the_database_says_so_in_timing_and_the_request_event(
    make_client, tenant, seeder
):
    client = await make_client(dashboard_cache_ttl=60)
    headers = headers_for(seeder, tenant)
    await until_listening(client)
    await client.get("/api/sales/auth/me", headers=headers)  # the principal cached: 0 trips

    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        computed = await client.get(DASHBOARD, headers=headers)
        cached = await client.get(DASHBOARD, headers=headers)

    trips = [e["db_round_trips"] for e in events if e["event"] == "request"]
    assert trips[0] >= 1 and trips[1] == 0  # the second answer came from the worker's cache
    db_ms = [float(re.search(r"db;dur=(\d+\.\d+)", r.headers["Server-Timing"]).group(1))
             for r in (computed, cached)]  # fmt: skip
    assert db_ms[0] > 0 and db_ms[1] == 0


async def test_with_the_cache_on_a_write_shows_on_the_dashboard_within_the_ttl(
    make_client, tenant, seeder
):
    """The summary is reused only while the tenant's versions are those it was computed
    under (issue 22): its ETag is built from them, so it must not lag behind them."""
    client = await make_client(dashboard_cache_ttl=60)
    await until_listening(client)
    headers = headers_for(seeder, tenant)
    before = await (await client.get(DASHBOARD, headers=headers)).json()
    seeder.customer(tenant)  # plain SQL: the triggers announce it

    async def customers_shown() -> int:
        return int((await (await client.get(DASHBOARD, headers=headers)).json())["customers"])

    deadline = time.monotonic() + 5
    while (shown := await customers_shown()) == before["customers"]:
        assert time.monotonic() < deadline, "the dashboard still shows the old count"
        await asyncio.sleep(0.02)
    assert shown == before["customers"] + 1
