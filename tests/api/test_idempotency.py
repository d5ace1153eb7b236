"""Idempotency-Key over HTTP: one effect per key and tenant, replayed byte for byte, and
nothing kept for a request that did not succeed."""

from __future__ import annotations

import asyncio
import uuid

from tests.support.sales import (
    API,
    assert_problem,
    headers_for,
    order_body,
    product,
    tenant_state,
)

ORDERS = f"{API}/orders"
REPLAYED = "Idempotent-Replayed"


def keyed(headers, key):
    return headers | {"Idempotency-Key": key}


def new_key():
    return f"key-{uuid.uuid4()}"


async def test_20_concurrent_requests_with_one_key_place_exactly_one_order(client, tenant, seeder):
    headers = keyed(headers_for(seeder, tenant, role="sales"), new_key())
    body = order_body(seeder.customer(tenant), (product(seeder, tenant, stock=100), 1))

    async def send():
        resp = await client.post(ORDERS, json=body, headers=headers)
        return resp.status, resp.headers.get(REPLAYED), await resp.read()

    answers = await asyncio.gather(*(send() for _ in range(20)))

    assert seeder.count(tenant, "orders") == 1
    created = [(replayed, raw) for status, replayed, raw in answers if status == 201]
    assert [replayed for replayed, _ in created].count(None) == 1  # the one that ran
    assert len({raw for _, raw in created}) == 1  # replays are byte-identical to it
    for status, _, raw in answers:
        if status != 201:
            assert status == 409 and b"/idempotency-in-flight" in raw, raw


async def test_a_retry_after_completion_replays_the_same_bytes_and_creates_nothing(
    client, tenant, seeder
):
    headers = keyed(headers_for(seeder, tenant), new_key())
    body = order_body(seeder.customer(tenant), (product(seeder, tenant, stock=5), 2))
    first = await client.post(ORDERS, json=body, headers=headers)
    assert first.status == 201 and REPLAYED not in first.headers
    first_bytes = await first.read()
    after_first = tenant_state(seeder, tenant)

    retry = await client.post(ORDERS, json=body, headers=headers)

    assert retry.status == 201
    assert retry.headers[REPLAYED] == "true"
    assert retry.headers["Content-Type"].startswith("application/json")
    assert await retry.read() == first_bytes
    assert tenant_state(seeder, tenant) == after_first


# The replay is exactly what a client whose first response was lost receives, so it too must
# say where the new order is: the Location is stored with the record.
async def test_a_replayed_create_still_says_where_the_order_is(client, tenant, seeder):
    headers = keyed(headers_for(seeder, tenant), new_key())
    body = order_body(seeder.customer(tenant), (product(seeder, tenant), 1))
    first = await client.post(ORDERS, json=body, headers=headers)
    assert first.status == 201
    retry = await client.post(ORDERS, json=body, headers=headers)
    assert retry.headers[REPLAYED] == "true"
    assert retry.headers.get("Location") == first.headers["Location"]


async def test_the_same_key_with_another_payload_is_422_and_writes_nothing(client, tenant, seeder):
    headers = keyed(headers_for(seeder, tenant), new_key())
    customer, widget = seeder.customer(tenant), product(seeder, tenant, stock=5)
    first = await client.post(ORDERS, json=order_body(customer, (widget, 1)), headers=headers)
    assert first.status == 201
    before = tenant_state(seeder, tenant)
    resp = await client.post(ORDERS, json=order_body(customer, (widget, 2)), headers=headers)
    await assert_problem(resp, 422, "idempotency-key-reused")
    assert tenant_state(seeder, tenant) == before


async def test_the_same_key_on_another_route_is_422(client, tenant, seeder):
    headers = keyed(headers_for(seeder, tenant), new_key())
    body = order_body(seeder.customer(tenant), (product(seeder, tenant), 1))
    assert (await client.post(ORDERS, json=body, headers=headers)).status == 201
    customer = {"name": "Ada", "email": "ada@example.test"}
    resp = await client.post(f"{API}/customers", json=customer, headers=headers)
    await assert_problem(resp, 422, "idempotency-key-reused")


async def test_a_key_belongs_to_its_tenant(client, tenant, other_tenant, seeder):
    key = new_key()
    ours = await client.post(
        ORDERS,
        json=order_body(seeder.customer(tenant), (product(seeder, tenant), 1)),
        headers=keyed(headers_for(seeder, tenant), key),
    )
    theirs = await client.post(
        ORDERS,
        json=order_body(seeder.customer(other_tenant), (product(seeder, other_tenant), 1)),
        headers=keyed(headers_for(seeder, other_tenant), key),
    )
    assert ours.status == theirs.status == 201
    assert REPLAYED not in theirs.headers
    assert (await ours.json())["id"] != (await theirs.json())["id"]
    assert seeder.count(tenant, "orders") == seeder.count(other_tenant, "orders") == 1


async def test_a_request_refused_by_validation_keeps_no_key(client, tenant, seeder):
    headers = keyed(headers_for(seeder, tenant), new_key())
    customer, widget = seeder.customer(tenant), product(seeder, tenant)
    refused = await client.post(ORDERS, json=order_body(customer), headers=headers)
    await assert_problem(refused, 422, "validation-error")
    corrected = await client.post(ORDERS, json=order_body(customer, (widget, 1)), headers=headers)
    assert corrected.status == 201 and REPLAYED not in corrected.headers


async def test_a_request_refused_for_stock_keeps_no_key_so_the_same_retry_runs_later(
    client, tenant, seeder
):
    headers = keyed(headers_for(seeder, tenant), new_key())
    widget = product(seeder, tenant, stock=1)
    body = order_body(seeder.customer(tenant), (widget, 3))
    await assert_problem(
        await client.post(ORDERS, json=body, headers=headers), 409, "insufficient-stock"
    )
    restock = await client.post(
        f"{API}/products/{widget}/stock-adjustments",
        json={"delta": 5},
        headers=headers_for(seeder, tenant),
    )
    assert restock.status == 201
    retried = await client.post(ORDERS, json=body, headers=headers)
    assert retried.status == 201 and REPLAYED not in retried.headers
    again = await client.post(ORDERS, json=body, headers=headers)
    assert again.status == 201 and again.headers[REPLAYED] == "true"
    assert seeder.count(tenant, "orders") == 1


async def test_a_key_longer_than_255_characters_is_422_and_writes_nothing(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    body = order_body(seeder.customer(tenant), (product(seeder, tenant), 1))
    before = tenant_state(seeder, tenant)
    resp = await client.post(ORDERS, json=body, headers=keyed(headers, "k" * 256))
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"Idempotency-Key"}
    assert tenant_state(seeder, tenant) == before
    longest = await client.post(ORDERS, json=body, headers=keyed(headers, "k" * 255))
    assert longest.status == 201
