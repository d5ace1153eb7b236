"""GET /api/sales/events over HTTP: what commands put in the feed, walking it, long polls."""

from __future__ import annotations

import asyncio
import time
import uuid

from app.edge.keys import ADMISSION, CONTAINER
from tests.conftest import auth_headers, until_listening
from tests.support.sales import assert_problem, order_body

FEED = "/api/sales/events"


async def walk(client, headers, after=None, **query):
    """The whole feed after `after`, page by page: (events, the cursor to go on from)."""
    events = []
    while True:
        params = {**query, **({"after": after} if after else {})}
        resp = await client.get(FEED, params=params, headers=headers)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        events += body["items"]
        if not body["items"] or after == body["next"]:
            return events, body["next"]
        after = body["next"]


async def new_customer(client, headers, **body):
    body.setdefault("name", "Feed Reader")
    body.setdefault("email", f"feed-{uuid.uuid4().hex[:8]}@example.test")
    resp = await client.post("/api/sales/customers", json=body, headers=headers)
    assert resp.status == 201
    return await resp.json()


async def test_each_command_puts_the_resource_it_answered_in_the_feed_in_order(
    client, tenant, seeder
):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    customer = await new_customer(client, headers)
    changed = await (
        await client.patch(
            f"/api/sales/customers/{customer['id']}", json={"name": "Renamed"}, headers=headers
        )
    ).json()
    item = await (
        await client.post(
            "/api/sales/products",
            json={
                "sku": f"F-{uuid.uuid4().hex[:8]}",
                "name": "Feed",
                "unit_price": "2.00",
                "stock": 5,
            },
            headers=headers,
        )
    ).json()
    order = await (
        await client.post(
            "/api/sales/orders", json=order_body(customer["id"], (item["id"], 2)), headers=headers
        )
    ).json()
    paid = await (
        await client.post(f"/api/sales/invoices/{order['invoice']['id']}/pay", headers=headers)
    ).json()

    events, _ = await walk(client, headers)

    assert [e["type"] for e in events] == [
        "customer.created",
        "customer.updated",
        "product.created",
        "order.placed",
        "invoice.issued",
        "invoice.paid",
    ]
    assert events[0]["data"] == customer and events[1]["data"] == changed
    assert events[3]["data"] == order and events[5]["data"] == paid
    assert len({e["id"] for e in events}) == len(events)


async def test_a_refused_command_adds_nothing_to_the_feed(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    await new_customer(client, headers, email="taken@example.test")
    resp = await client.post(
        "/api/sales/customers",
        json={"name": "Again", "email": "taken@example.test"},
        headers=headers,
    )
    assert resp.status == 409
    events, _ = await walk(client, headers)
    assert [e["type"] for e in events] == ["customer.created"]


async def test_a_walk_resumes_after_its_cursor_and_filters_by_type(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    first = await new_customer(client, headers)
    _, cursor = await walk(client, headers)
    second = await new_customer(client, headers)
    await client.delete(f"/api/sales/customers/{second['id']}", headers=headers)

    later, _ = await walk(client, headers, cursor)
    deleted, _ = await walk(client, headers, types="customer.deleted", limit=1)

    assert [e["data"]["id"] for e in later] == [second["id"], second["id"]]
    assert first["id"] not in [e["data"]["id"] for e in later]
    assert [e["type"] for e in deleted] == ["customer.deleted"]


async def test_the_feed_of_one_tenant_shows_nothing_of_another(
    client, tenant, other_tenant, seeder
):
    mine = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    theirs = auth_headers(other_tenant, seeder.session(other_tenant, other_tenant.users["admin"]))
    await new_customer(client, mine)
    await new_customer(client, theirs)
    await new_customer(client, theirs)
    assert len((await walk(client, mine))[0]) == 1
    assert len((await walk(client, theirs))[0]) == 2


async def test_a_cursor_older_than_the_retention_is_410_and_a_forged_one_422(
    client, tenant, seeder
):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    _, start = await walk(client, headers)
    await new_customer(client, headers)
    await new_customer(client, headers)
    seeder.run(tenant.id, "update event_counters set purged_through = 1")
    await assert_problem(
        await client.get(FEED, params={"after": start}, headers=headers), 410, "cursor-expired"
    )
    await assert_problem(await client.get(FEED, params={"after": "bm9wZQ"}, headers=headers), 422)
    await assert_problem(await client.get(FEED, params={"types": "nope"}, headers=headers), 422)


async def test_a_long_poll_answers_soon_after_another_workers_commit_holding_nothing_meanwhile(
    make_client, tenant, seeder
):
    poller, writer = await make_client(), await make_client()  # two workers, two pools
    await until_listening(poller)
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    _, cursor = await walk(poller, headers)
    poll = asyncio.create_task(
        poller.get(FEED, params={"after": cursor, "wait": 10}, headers=headers)
    )
    await asyncio.sleep(0.5)
    assert not poll.done(), "nothing happened yet: the poll waits"
    db, gate = poller.app[CONTAINER].db, poller.app[ADMISSION].reads
    assert db.in_use == 0 and gate.active == 0, "waiting holds no connection and no place"
    assert _app_sessions_in_transaction(seeder) == 0

    customer = await new_customer(writer, headers)
    committed = time.monotonic()
    resp = await asyncio.wait_for(poll, 15)
    answered = time.monotonic() - committed

    body = await resp.json()
    assert [e["data"]["id"] for e in body["items"]] == [customer["id"]]
    # "within 1 s" on a quiet machine; the bound here only tells a notification (well under
    # it) from a poll that slept its whole wait (10 s) on a busy one.
    assert answered < 5, f"the poll answered {answered:.1f}s after the commit"


def _app_sessions_in_transaction(seeder) -> int:
    (row,) = seeder.run(
        None,
        "select count(*) from pg_stat_activity where datname = current_database()"
        " and usename <> current_user and state like 'idle in transaction%%'",
    )
    return row[0]


async def test_an_events_data_is_byte_for_byte_what_the_api_answered(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    body = {"name": "Byte Exact", "email": f"exact-{uuid.uuid4().hex[:8]}@example.test"}
    answered = await (await client.post("/api/sales/customers", json=body, headers=headers)).read()
    feed = await (await client.get(FEED, headers=headers)).read()
    assert b'"data":' + answered + b"}" in feed
