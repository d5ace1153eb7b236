"""A payment repeated is the recorded payment; a different one for a paid invoice is a 409
that shows the recorded one, so a double charge cannot go unnoticed (issue 19, item 7)."""

from __future__ import annotations

from tests.api.test_pay_and_cancel_bodies import an_order
from tests.support.sales import API, assert_problem, headers_for, tenant_state


async def test_the_identical_payment_repeated_answers_the_recorded_payment(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    invoice = (await an_order(client, seeder, tenant, headers))["invoice"]
    url = f"{API}/invoices/{invoice['id']}/pay"
    first = await client.post(url, json={"method": "card", "reference": "R-1"}, headers=headers)
    assert first.status == 200
    recorded = await first.json()
    after_first = tenant_state(seeder, tenant)
    again = await client.post(url, json={"method": "card", "reference": "R-1"}, headers=headers)
    assert again.status == 200
    assert await again.json() == recorded
    assert tenant_state(seeder, tenant) == after_first


async def test_a_different_payment_for_a_paid_invoice_is_already_paid_with_the_recorded_one(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    invoice = (await an_order(client, seeder, tenant, headers))["invoice"]
    url = f"{API}/invoices/{invoice['id']}/pay"
    first = await client.post(url, json={"method": "card", "reference": "R-1"}, headers=headers)
    paid_at = (await first.json())["paid_at"]
    after_first = tenant_state(seeder, tenant)
    second = await client.post(url, json={"method": "wire", "reference": "R-2"}, headers=headers)
    problem = await assert_problem(second, 409, "already-paid")
    assert problem["recorded_payment"]["method"] == "card"
    assert problem["recorded_payment"]["reference"] == "R-1"
    assert problem["recorded_payment"]["paid_at"].replace(" ", "T").startswith(paid_at[:19])
    assert tenant_state(seeder, tenant) == after_first
    shown = await (await client.get(f"{API}/invoices/{invoice['id']}", headers=headers)).json()
    assert (shown["payment_method"], shown["payment_reference"]) == ("card", "R-1")
