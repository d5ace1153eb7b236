"""Many commands at once, all through HTTP: no oversell, no lost update, no deadlock, gapless
invoice numbers, and cancels and payments of one order that cannot both win."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from tests.conftest import assert_pool_idle
from tests.support.sales import (
    API,
    assert_stock_matches_movements,
    headers_for,
    place_order,
    placed_order,
    product,
    stock_of,
)

pytestmark = pytest.mark.slow


@pytest.fixture
async def racing(make_client, tenant, seeder):
    """A client with ten connections, so that commands really run at once, a sales user's
    headers and a customer; every connection is back in the pool when the test ends."""
    client = await make_client(db_pool_max=10)
    yield client, headers_for(seeder, tenant, role="sales"), seeder.customer(tenant)
    assert_pool_idle(client)


async def place_all(client, headers, customer, line_sets):
    """Send every order at once; answer (status, body) per order."""

    async def one(lines):
        resp = await place_order(client, headers, customer, *lines)
        return resp.status, await resp.json(content_type=None)

    return await asyncio.gather(*(one(lines) for lines in line_sets))


async def test_100_orders_for_50_in_stock_sell_exactly_50(racing, tenant, seeder):
    client, headers, customer = racing
    widget = product(seeder, tenant, stock=50)

    answers = await place_all(client, headers, customer, [[(widget, 1)]] * 100)

    assert Counter(status for status, _ in answers) == {201: 50, 409: 50}
    refused = [body for status, body in answers if status == 409]
    assert all(body["type"].endswith("/insufficient-stock") for body in refused)
    assert stock_of(seeder, tenant, widget) == 0
    assert seeder.count(tenant, "orders") == 50
    numbers = sorted(body["invoice"]["number"] for status, body in answers if status == 201)
    assert numbers == [f"INV-{n:06d}" for n in range(1, 51)]
    stored = [n for (n,) in seeder.run(tenant.id, "select number from invoices order by number")]
    assert stored == numbers
    assert_stock_matches_movements(seeder, tenant)


async def test_orders_naming_two_products_in_opposite_order_never_deadlock(racing, tenant, seeder):
    client, headers, customer = racing
    left = product(seeder, tenant, stock=30)
    right = product(seeder, tenant, stock=30)
    line_sets = [[(left, 1), (right, 1)] if i % 2 else [(right, 1), (left, 1)] for i in range(50)]

    answers = await place_all(client, headers, customer, line_sets)

    # Every order takes one of each, so exactly as many succeed as either product has.
    assert Counter(status for status, _ in answers) == {201: 30, 409: 20}
    assert stock_of(seeder, tenant, left) == stock_of(seeder, tenant, right) == 0
    assert seeder.count(tenant, "invoices") == 30
    assert_stock_matches_movements(seeder, tenant)


# Cancel locks the order, then locks and re-reads the invoice: a payment that commits in
# between must make the cancel a 409, never void a paid invoice.
async def test_a_cancel_racing_a_payment_never_voids_a_paid_invoice(racing, tenant, seeder):
    client, headers, customer = racing
    widget = product(seeder, tenant, stock=20)
    orders = [await placed_order(client, headers, customer, (widget, 1)) for _ in range(20)]

    async def race(order):
        cancel, pay = await asyncio.gather(
            client.post(f"{API}/orders/{order['id']}/cancel", headers=headers),
            client.post(f"{API}/invoices/{order['invoice']['id']}/pay", headers=headers),
        )
        return order["id"], cancel.status, pay.status

    answers = await asyncio.gather(*(race(order) for order in orders))
    final = dict(
        seeder.run(
            tenant.id,
            "select o.id::text, o.status || '/' || i.status from orders o"
            " join invoices i on i.order_id = o.id",
        )
    )
    outcomes = Counter((cancel, pay, final[order_id]) for order_id, cancel, pay in answers)
    assert set(outcomes) <= {(200, 409, "cancelled/void"), (409, 200, "placed/paid")}, outcomes
    assert_stock_matches_movements(seeder, tenant)


# The second of two simultaneous cancels waits for the first and must answer what is stored:
# the order cancelled with its invoice void.
async def test_two_cancels_at_once_both_answer_the_cancelled_order_with_a_void_invoice(
    racing, tenant, seeder
):
    client, headers, customer = racing
    widget = product(seeder, tenant, stock=20)
    orders = [await placed_order(client, headers, customer, (widget, 1)) for _ in range(20)]

    async def cancel(order):
        resp = await client.post(f"{API}/orders/{order['id']}/cancel", headers=headers)
        assert resp.status == 200
        body = await resp.json()
        return body["status"], body["invoice"]["status"]

    answers = await asyncio.gather(*(cancel(order) for order in orders for _ in range(2)))
    assert Counter(answers) == {("cancelled", "void"): 40}
    assert stock_of(seeder, tenant, widget) == 20
    assert_stock_matches_movements(seeder, tenant)
