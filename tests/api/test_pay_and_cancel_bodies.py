"""Pay and cancel read their bodies: details are stored and returned, unknown fields refused."""

from __future__ import annotations

from tests.support.sales import API, assert_problem, headers_for, placed_order, product


async def an_order(client, seeder, tenant, headers):
    return await placed_order(
        client, headers, seeder.customer(tenant), (product(seeder, tenant), 1)
    )


async def test_pay_stores_and_returns_method_and_reference(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    invoice = (await an_order(client, seeder, tenant, headers))["invoice"]
    body = {"method": "bank transfer", "reference": "  TX-42  "}
    resp = await client.post(f"{API}/invoices/{invoice['id']}/pay", json=body, headers=headers)
    assert resp.status == 200, await resp.text()
    paid = await resp.json()
    assert (paid["status"], paid["payment_method"], paid["payment_reference"]) == (
        "paid",
        "bank transfer",
        "TX-42",
    )
    again = await client.get(f"{API}/invoices/{invoice['id']}", headers=headers)
    assert (await again.json())["payment_reference"] == "TX-42"


async def test_pay_with_an_unknown_field_is_422_and_pays_nothing(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    invoice = (await an_order(client, seeder, tenant, headers))["invoice"]
    resp = await client.post(
        f"{API}/invoices/{invoice['id']}/pay", json={"amount": "1.00"}, headers=headers
    )
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"amount"}
    got = await client.get(f"{API}/invoices/{invoice['id']}", headers=headers)
    assert (await got.json())["status"] == "open"


async def test_pay_without_a_body_still_pays(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    invoice = (await an_order(client, seeder, tenant, headers))["invoice"]
    resp = await client.post(f"{API}/invoices/{invoice['id']}/pay", headers=headers)
    body = await resp.json()
    assert (resp.status, body["status"], body["payment_method"]) == (200, "paid", None)


async def test_cancel_stores_and_returns_the_reason(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    order = await an_order(client, seeder, tenant, headers)
    resp = await client.post(
        f"{API}/orders/{order['id']}/cancel",
        json={"reason": "customer changed mind"},
        headers=headers,
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["cancel_reason"] == "customer changed mind"
    got = await client.get(f"{API}/orders/{order['id']}", headers=headers)
    assert (await got.json())["cancel_reason"] == "customer changed mind"


async def test_cancel_with_an_unknown_field_is_422_and_cancels_nothing(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    order = await an_order(client, seeder, tenant, headers)
    resp = await client.post(
        f"{API}/orders/{order['id']}/cancel", json={"restock": False}, headers=headers
    )
    await assert_problem(resp, 422, "validation-error")
    got = await client.get(f"{API}/orders/{order['id']}", headers=headers)
    assert (await got.json())["status"] == "placed"
