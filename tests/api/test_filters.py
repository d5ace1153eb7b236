"""List filters filter, and keyset paging walks exactly the filtered set (issue 10).

Each case makes matching and non-matching rows, then walks the pages two at a time: the
pages hold every match once, newest first, and nothing else.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tests.support.sales import API, assert_problem, every_page, headers_for, placed_order, product


async def walk(client, path, params, headers) -> list[dict]:
    """Every item of every page, two at a time."""
    pages = await every_page(client, path, headers, **params, limit="2")
    return [item for page in pages for item in page["items"]]


def ids(items) -> list[str]:
    return [i["id"] for i in items]


async def orders_for_two_customers(client, seeder, tenant, headers):
    pid = product(seeder, tenant, stock=100)
    mine, other = seeder.customer(tenant), seeder.customer(tenant)
    placed = {
        "mine": [await placed_order(client, headers, mine, (pid, 1)) for _ in range(3)],
        "other": [await placed_order(client, headers, other, (pid, 1)) for _ in range(2)],
    }
    return mine, placed


async def test_invoices_filter_by_customer_order_status_and_issue_time(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    mine, placed = await orders_for_two_customers(client, seeder, tenant, headers)
    mine_invoices = [o["invoice"]["id"] for o in reversed(placed["mine"])]
    path = f"{API}/invoices"

    assert ids(await walk(client, path, {"customer_id": str(mine)}, headers)) == mine_invoices
    one = placed["other"][0]
    assert ids(await walk(client, path, {"order_id": one["id"]}, headers)) == [one["invoice"]["id"]]
    paid = placed["mine"][0]["invoice"]["id"]
    assert (await client.post(f"{path}/{paid}/pay", headers=headers)).status == 200
    assert ids(await walk(client, path, {"status": "paid", "customer_id": str(mine)}, headers)) == [
        paid
    ]
    assert ids(await walk(client, path, {"status": "open"}, headers)) == [
        i for i in ids(await walk(client, path, {}, headers)) if i != paid
    ]
    issued = datetime.fromisoformat(placed["other"][0]["invoice"]["issued_at"])
    later = await walk(client, path, {"since": issued.isoformat()}, headers)
    assert ids(later) == [o["invoice"]["id"] for o in reversed(placed["other"])]
    earlier = await walk(client, path, {"until": issued.isoformat()}, headers)
    assert ids(earlier) == mine_invoices


async def test_orders_filter_by_customer_status_and_time_across_pages(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    mine, placed = await orders_for_two_customers(client, seeder, tenant, headers)
    path = f"{API}/orders"
    mine_ids = [o["id"] for o in reversed(placed["mine"])]
    assert ids(await walk(client, path, {"customer_id": str(mine)}, headers)) == mine_ids
    cancelled = placed["mine"][1]["id"]
    assert (await client.post(f"{path}/{cancelled}/cancel", headers=headers)).status == 200
    assert ids(await walk(client, path, {"status": "cancelled"}, headers)) == [cancelled]
    start = datetime.fromisoformat(placed["mine"][1]["created_at"])
    window = {"since": start.isoformat(), "until": (start + timedelta(hours=1)).isoformat()}
    assert (
        ids(await walk(client, path, {**window, "customer_id": str(mine)}, headers))
        == (mine_ids[:2])
    )


async def test_products_filter_by_active_low_stock_and_q_across_pages(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    tag = uuid.uuid4().hex[:6]
    inactive = [product(seeder, tenant, sku=f"{tag}-off-{i}", active=False) for i in range(3)]
    low = [product(seeder, tenant, sku=f"{tag}-low-{i}", stock=1) for i in range(3)]
    plenty = [product(seeder, tenant, sku=f"{tag}-many-{i}", stock=500) for i in range(3)]
    path = f"{API}/products"

    def newest_first(pids):
        return [str(p) for p in reversed(pids)]

    assert ids(await walk(client, path, {"active": "false"}, headers)) == newest_first(inactive)
    active = await walk(client, path, {"active": "true"}, headers)
    assert ids(active) == newest_first(low + plenty)
    lows = await walk(client, path, {"active": "true", "low_stock": "5"}, headers)
    assert ids(lows) == newest_first(low)
    assert ids(await walk(client, path, {"q": f"{tag}-many"}, headers)) == newest_first(plenty)


async def test_customers_filter_by_q_and_exact_email_across_pages(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    tag = uuid.uuid4().hex[:8]
    made = []
    for i in range(5):
        body = {"name": f"Filter {tag} {i}", "email": f"{tag}-{i}@example.test"}
        resp = await client.post(f"{API}/customers", json=body, headers=headers)
        made.append(await resp.json())
    seeder.customer(tenant)  # one that matches nothing
    path = f"{API}/customers"
    assert ids(await walk(client, path, {"q": tag}, headers)) == ids(reversed(made))
    exact = await walk(client, path, {"email": f" {tag}-3@EXAMPLE.test"}, headers)
    assert ids(exact) == [made[3]["id"]]
    assert await walk(client, path, {"email": f"{tag}@example.test"}, headers) == []


async def test_a_filter_value_of_the_wrong_type_is_422_naming_it(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    for path, params in [
        ("invoices", {"customer_id": "nope"}),
        ("invoices", {"since": "yesterday"}),
        ("products", {"active": "0"}),
        ("customers", {"email": "not-an-email"}),
    ]:
        resp = await client.get(f"{API}/{path}", params=params, headers=headers)
        problem = await assert_problem(resp, 422, "validation-error")
        assert set(problem["errors"]) == set(params)
