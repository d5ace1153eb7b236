"""The orders slice over HTTP: placing, refusing, cancelling, paying, listing, and tenant
isolation of every route that takes an id."""

from __future__ import annotations

import re
import uuid

import pytest

from app.api.routes import ROUTES
from app.edge.keys import CONTAINER
from domain.model import tokens
from infrastructure.unit_of_work import PgUnitOfWork
from tests.conftest import assert_pool_idle
from tests.support.sales import (
    API,
    PROBLEM_KEYS,
    assert_problem,
    assert_stock_matches_movements,
    every_page,
    headers_for,
    movements_of,
    place_order,
    placed_order,
    product,
    stock_of,
    tenant_state,
)

ORDERS = f"{API}/orders"
INVOICES = f"{API}/invoices"


# ---- placing ---------------------------------------------------------------------------------


async def test_placing_an_order_answers_201_with_lines_and_the_first_invoice(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant, role="sales")
    customer = seeder.customer(tenant)
    widget = product(seeder, tenant, stock=10, unit_price="2.50")
    gadget = product(seeder, tenant, stock=4, unit_price="10.00")
    resp = await place_order(client, headers, customer, (widget, 3), (gadget, 4), note="rush")
    assert resp.status == 201
    order = await resp.json()
    assert resp.headers["Location"] == f"{ORDERS}/{order['id']}"
    assert order["customer_id"] == str(customer) and order["status"] == "placed"
    assert order["note"] == "rush" and order["cancelled_at"] is None
    assert order["lines"] == [
        {"product_id": str(widget), "quantity": 3, "unit_price": "2.50", "line_total": "7.50"},
        {"product_id": str(gadget), "quantity": 4, "unit_price": "10.00", "line_total": "40.00"},
    ]
    assert order["total"] == "47.50"
    invoice = order["invoice"]
    assert invoice["number"] == "INV-000001" and invoice["status"] == "open"
    assert invoice["amount"] == "47.50" and invoice["order_id"] == order["id"]


async def test_placing_an_order_takes_the_stock_with_order_movements(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    customer = seeder.customer(tenant)
    widget = product(seeder, tenant, stock=10)
    gadget = product(seeder, tenant, stock=4)
    order = await placed_order(client, headers, customer, (widget, 3), (gadget, 4))
    assert stock_of(seeder, tenant, widget) == 7
    assert stock_of(seeder, tenant, gadget) == 0
    order_id = uuid.UUID(order["id"])
    assert movements_of(seeder, tenant, widget)[-1] == (-3, "order", order_id)
    assert movements_of(seeder, tenant, gadget)[-1] == (-4, "order", order_id)
    assert_stock_matches_movements(seeder, tenant)


async def test_invoice_numbers_count_up_per_tenant(client, tenant, other_tenant, seeder):
    numbers = []
    for t in (tenant, tenant, other_tenant):
        order = await placed_order(
            client, headers_for(seeder, t), seeder.customer(t), (product(seeder, t), 1)
        )
        numbers.append(order["invoice"]["number"])
    assert numbers == ["INV-000001", "INV-000002", "INV-000001"]


async def test_money_is_exact_to_the_cent(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    dime = product(seeder, tenant, unit_price="0.10")
    pricey = product(seeder, tenant, unit_price="19.99")
    order = await placed_order(client, headers, seeder.customer(tenant), (dime, 3), (pricey, 7))
    assert [ln["line_total"] for ln in order["lines"]] == ["0.30", "139.93"]
    assert order["total"] == "140.23"
    assert order["invoice"]["amount"] == "140.23"


async def test_get_order_and_invoice_answer_what_placing_answered(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    order = await placed_order(
        client, headers, seeder.customer(tenant), (product(seeder, tenant, unit_price="3.33"), 2)
    )
    got = await client.get(f"{ORDERS}/{order['id']}", headers=headers)
    assert got.status == 200
    assert await got.json() == order
    invoice = await client.get(f"{INVOICES}/{order['invoice']['id']}", headers=headers)
    assert invoice.status == 200
    assert await invoice.json() == order["invoice"]


# ---- refusals that write nothing -------------------------------------------------------------


async def test_a_product_on_two_lines_is_422_and_writes_nothing(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    customer, widget = seeder.customer(tenant), product(seeder, tenant)
    before = tenant_state(seeder, tenant)
    resp = await place_order(client, headers, customer, (widget, 1), (widget, 2))
    problem = await assert_problem(resp, 422, "validation-error")
    assert str(widget) in str(problem["errors"]["lines"])
    assert tenant_state(seeder, tenant) == before


@pytest.mark.parametrize("count", [0, 101])
async def test_an_order_with_no_lines_or_more_than_100_is_422(client, tenant, seeder, count):
    headers = headers_for(seeder, tenant)
    customer = seeder.customer(tenant)
    lines = [(product(seeder, tenant), 1) for _ in range(min(count, 1))]
    lines += [(uuid.uuid4(), 1) for _ in range(count - len(lines))]
    before = tenant_state(seeder, tenant)
    problem = await assert_problem(
        await place_order(client, headers, customer, *lines), 422, "validation-error"
    )
    assert set(problem["errors"]) == {"lines"}
    assert tenant_state(seeder, tenant) == before


# Errors inside a list item are keyed by the item's index, not by a name: they must still
# come back as a problem document, not crash the error middleware.
@pytest.mark.parametrize(
    "line",
    [
        {"quantity": 0},
        {"quantity": -1},
        {"quantity": 1.5},
        {"quantity": True},
        {"quantity": "1"},
        {"product_id": "not-a-uuid"},
    ],
    ids=[
        "quantity-0",
        "quantity-negative",
        "quantity-fraction",
        "quantity-bool",
        "quantity-str",
        "product-id-not-a-uuid",
    ],
)
async def test_a_line_that_breaks_the_schema_is_422_and_writes_nothing(
    client, tenant, seeder, line
):
    headers = headers_for(seeder, tenant)
    customer, widget = seeder.customer(tenant), product(seeder, tenant)
    body = {
        "customer_id": str(customer),
        "lines": [{"product_id": str(widget), "quantity": 1} | line],
    }
    before = tenant_state(seeder, tenant)
    resp = await client.post(ORDERS, json=body, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert {path.split(".")[:2] == ["lines", "0"] for path in problem["errors"]} == {True}
    assert tenant_state(seeder, tenant) == before


async def test_unknown_customer_and_products_are_422_naming_each_and_write_nothing(
    client, tenant, other_tenant, seeder
):
    headers = headers_for(seeder, tenant)
    widget = product(seeder, tenant, stock=5)
    theirs = product(seeder, other_tenant, stock=5)
    nowhere, no_customer = uuid.uuid4(), uuid.uuid4()
    before, theirs_before = tenant_state(seeder, tenant), tenant_state(seeder, other_tenant)
    resp = await place_order(client, headers, no_customer, (widget, 1), (theirs, 1), (nowhere, 1))
    problem = await assert_problem(resp, 422, "unknown-reference")
    assert problem["errors"]["customer_id"] == [str(no_customer)]
    assert sorted(problem["errors"]["product_ids"]) == sorted([str(theirs), str(nowhere)])
    assert tenant_state(seeder, tenant) == before
    assert tenant_state(seeder, other_tenant) == theirs_before


async def test_another_tenants_customer_is_an_unknown_reference(
    client, tenant, other_tenant, seeder
):
    headers = headers_for(seeder, tenant)
    theirs = seeder.customer(other_tenant)
    before = tenant_state(seeder, tenant)
    resp = await place_order(client, headers, theirs, (product(seeder, tenant), 1))
    problem = await assert_problem(resp, 422, "unknown-reference")
    assert problem["errors"] == {"customer_id": [str(theirs)]}
    assert tenant_state(seeder, tenant)["orders"] == before["orders"] == []


async def test_an_inactive_product_cannot_be_ordered(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    retired = product(seeder, tenant, active=False)
    before = tenant_state(seeder, tenant)
    resp = await place_order(client, headers, seeder.customer(tenant), (retired, 1))
    problem = await assert_problem(resp, 422, "unknown-reference")
    assert problem["errors"] == {"inactive_product_ids": [str(retired)]}
    assert tenant_state(seeder, tenant)["orders"] == before["orders"] == []


async def test_insufficient_stock_is_409_listing_each_short_product_and_writes_nothing(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    customer = seeder.customer(tenant)
    plenty = product(seeder, tenant, stock=10)
    short = product(seeder, tenant, stock=2)
    empty = product(seeder, tenant, stock=0)
    before = tenant_state(seeder, tenant)
    resp = await place_order(client, headers, customer, (plenty, 5), (short, 3), (empty, 1))
    problem = await assert_problem(resp, 409, "insufficient-stock")
    assert sorted(problem["shortages"], key=lambda s: s["available"]) == [
        {"product_id": str(empty), "requested": 1, "available": 0},
        {"product_id": str(short), "requested": 3, "available": 2},
    ]
    assert tenant_state(seeder, tenant) == before


# ---- atomicity -------------------------------------------------------------------------------


class InvoiceIssueFails(PgUnitOfWork):
    """The real unit of work, except that issuing the invoice, the last write of placing an
    order, fails right after it reached the database."""

    async def __aenter__(self) -> PgUnitOfWork:
        await super().__aenter__()
        issue = self.invoices.issue

        async def issue_then_fail(order):
            await issue(order)
            raise RuntimeError("injected: failed after issuing the invoice")

        self.invoices.issue = issue_then_fail
        return self


class CommitFails(PgUnitOfWork):
    """The real unit of work, except that it fails just before COMMIT."""

    async def commit(self, result: object = None) -> None:
        raise RuntimeError("injected: failed before commit")


@pytest.mark.parametrize("failing_uow", [InvoiceIssueFails, CommitFails], ids=["issue", "commit"])
async def test_an_order_that_fails_at_its_last_step_leaves_nothing_behind(
    client, tenant, seeder, failing_uow
):
    orders = client.app[CONTAINER].services.orders
    real_uow, db = orders._uow, client.app[CONTAINER].db
    orders._uow = lambda tenant_id, idempotency=None: failing_uow(db, tenant_id, idempotency)
    headers = headers_for(seeder, tenant) | {"Idempotency-Key": "fails-late"}
    customer, widget = seeder.customer(tenant), product(seeder, tenant, stock=5)
    before = tenant_state(seeder, tenant)

    resp = await place_order(client, headers, customer, (widget, 2))
    problem = await assert_problem(resp, 500, "internal-error")
    assert problem.keys() == PROBLEM_KEYS
    assert problem["request_id"] == resp.headers["X-Request-ID"]
    assert "injected" not in await resp.text() and "Traceback" not in await resp.text()
    assert tenant_state(seeder, tenant) == before  # no order, line, movement, invoice or key
    assert_pool_idle(client)

    # Nothing was kept under the key, and the failed attempt gave its invoice number back.
    orders._uow = real_uow
    retry = await place_order(client, headers, customer, (widget, 2))
    assert retry.status == 201 and "Idempotent-Replayed" not in retry.headers
    assert (await retry.json())["invoice"]["number"] == "INV-000001"
    assert stock_of(seeder, tenant, widget) == 3


# ---- cancelling and paying -------------------------------------------------------------------


async def test_cancelling_restocks_voids_the_invoice_and_marks_the_order_cancelled(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    widget = product(seeder, tenant, stock=10)
    order = await placed_order(client, headers, seeder.customer(tenant), (widget, 4))
    resp = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=headers)
    assert resp.status == 200
    cancelled = await resp.json()
    assert cancelled["id"] == order["id"] and cancelled["status"] == "cancelled"
    assert cancelled["cancelled_at"] is not None
    assert cancelled["invoice"]["status"] == "void" and cancelled["invoice"]["voided_at"]
    assert cancelled["lines"] == order["lines"]
    assert stock_of(seeder, tenant, widget) == 10
    assert movements_of(seeder, tenant, widget)[-1] == (4, "cancel", uuid.UUID(order["id"]))
    assert_stock_matches_movements(seeder, tenant)
    fetched = await (await client.get(f"{ORDERS}/{order['id']}", headers=headers)).json()
    assert fetched == cancelled


async def test_cancelling_again_answers_the_same_order_and_moves_no_stock(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    widget = product(seeder, tenant, stock=10)
    order = await placed_order(client, headers, seeder.customer(tenant), (widget, 4))
    first = await (await client.post(f"{ORDERS}/{order['id']}/cancel", headers=headers)).json()
    after_first = tenant_state(seeder, tenant)
    again = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=headers)
    assert again.status == 200
    assert await again.json() == first
    assert tenant_state(seeder, tenant) == after_first
    assert stock_of(seeder, tenant, widget) == 10


async def test_paying_an_invoice_marks_it_paid_and_paying_again_changes_nothing(
    client, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    order = await placed_order(
        client, headers, seeder.customer(tenant), (product(seeder, tenant), 1)
    )
    url = f"{INVOICES}/{order['invoice']['id']}/pay"
    resp = await client.post(url, headers=headers)
    assert resp.status == 200
    paid = await resp.json()
    assert paid["status"] == "paid" and paid["paid_at"] is not None
    assert paid["number"] == order["invoice"]["number"]
    after_first = tenant_state(seeder, tenant)
    again = await client.post(url, headers=headers)
    assert again.status == 200
    assert await again.json() == paid
    assert tenant_state(seeder, tenant) == after_first


async def test_a_void_invoice_cannot_be_paid(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    order = await placed_order(
        client, headers, seeder.customer(tenant), (product(seeder, tenant), 1)
    )
    assert (await client.post(f"{ORDERS}/{order['id']}/cancel", headers=headers)).status == 200
    before = tenant_state(seeder, tenant)
    resp = await client.post(f"{INVOICES}/{order['invoice']['id']}/pay", headers=headers)
    await assert_problem(resp, 409, "invalid-transition")
    assert tenant_state(seeder, tenant) == before


async def test_a_paid_order_cannot_be_cancelled(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    widget = product(seeder, tenant, stock=5)
    order = await placed_order(client, headers, seeder.customer(tenant), (widget, 2))
    assert (await client.post(f"{INVOICES}/{order['invoice']['id']}/pay", headers=headers)).ok
    before = tenant_state(seeder, tenant)
    resp = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=headers)
    await assert_problem(resp, 409, "invalid-transition")
    assert tenant_state(seeder, tenant) == before
    assert stock_of(seeder, tenant, widget) == 3


async def test_a_customer_with_orders_cannot_be_deleted(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    customer = seeder.customer(tenant)
    await placed_order(client, headers, customer, (product(seeder, tenant), 1))
    resp = await client.delete(f"{API}/customers/{customer}", headers=headers)
    await assert_problem(resp, 409, "conflict")
    assert (await client.get(f"{API}/customers/{customer}", headers=headers)).status == 200


# ---- listing ---------------------------------------------------------------------------------


async def list_ids(client, url, headers, **params):
    """Every id across all pages of a list."""
    pages = await every_page(client, url, headers, **params)
    return [item["id"] for page in pages for item in page["items"]]


async def test_orders_list_newest_first_and_filters_by_status_and_customer(
    client, tenant, other_tenant, seeder
):
    headers = headers_for(seeder, tenant)
    alice, bob = seeder.customer(tenant), seeder.customer(tenant)
    widget = product(seeder, tenant, stock=100)
    placed = [
        (await placed_order(client, headers, who, (widget, 1)))["id"]
        for who in (alice, bob, alice, bob, alice)
    ]
    await placed_order(
        client,
        headers_for(seeder, other_tenant),
        seeder.customer(other_tenant),
        (product(seeder, other_tenant), 1),
    )
    await client.post(f"{ORDERS}/{placed[0]}/cancel", headers=headers)
    newest_first = list(reversed(placed))
    assert await list_ids(client, ORDERS, headers, limit=2) == newest_first
    by_status = await list_ids(client, ORDERS, headers, limit=2, status="placed")
    assert by_status == newest_first[:-1]
    cancelled = await list_ids(client, ORDERS, headers, status="cancelled")
    assert cancelled == [placed[0]]
    of_alice = await list_ids(client, ORDERS, headers, limit=1, customer_id=str(alice))
    assert of_alice == [placed[4], placed[2], placed[0]]


async def test_invoices_list_filters_by_status(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    customer, widget = seeder.customer(tenant), product(seeder, tenant, stock=10)
    orders = [await placed_order(client, headers, customer, (widget, 1)) for _ in range(3)]
    invoice_ids = [o["invoice"]["id"] for o in orders]
    await client.post(f"{INVOICES}/{invoice_ids[0]}/pay", headers=headers)
    await client.post(f"{ORDERS}/{orders[1]['id']}/cancel", headers=headers)
    assert await list_ids(client, INVOICES, headers, limit=2) == list(reversed(invoice_ids))
    assert await list_ids(client, INVOICES, headers, status="paid") == [invoice_ids[0]]
    assert await list_ids(client, INVOICES, headers, status="void") == [invoice_ids[1]]
    assert await list_ids(client, INVOICES, headers, status="open") == [invoice_ids[2]]


async def test_a_bad_status_filter_is_422(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    resp = await client.get(ORDERS, params={"status": "shipped"}, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"status"}


# ---- tenant isolation ------------------------------------------------------------------------


def _webhook_and_delivery(seeder, tenant) -> dict[str, uuid.UUID]:
    """A webhook endpoint of the tenant with one logged delivery, written as the owner."""
    ((webhook, delivery),) = seeder.run(
        tenant.id,
        "with w as (insert into webhook_endpoints (tenant_id, url, secret, delivered_through)"
        " values (%(t)s, 'https://example.com/hook', '\\x00', 0) returning id, tenant_id),"
        " d as (insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_position,"
        " event_type, attempt, outcome) select tenant_id, id, gen_random_uuid(), 1,"
        " 'customer.created', 1, 'succeeded' from w returning id)"
        " select w.id, d.id from w, d",
        {"t": str(tenant.id)},
    )
    return {"webhook": webhook, "delivery": delivery}


# Every route with an {id}: tenant A's token with tenant B's ids finds nothing and changes nothing.
ID_ROUTES = [
    ("GET", "/customers/{customer}", None),
    ("PATCH", "/customers/{customer}", {"name": "Taken over"}),
    ("DELETE", "/customers/{customer}", None),
    ("GET", "/products/{product}", None),
    ("PATCH", "/products/{product}", {"name": "Taken over", "unit_price": "0.01"}),
    ("POST", "/products/{product}/stock-adjustments", {"delta": -1}),
    ("GET", "/orders/{order}", None),
    ("POST", "/orders/{order}/cancel", None),
    ("GET", "/invoices/{invoice}", None),
    ("POST", "/invoices/{invoice}/pay", None),
    ("DELETE", "/api-keys/{api_key}", None),
    ("GET", "/webhooks/{webhook}", None),
    ("PATCH", "/webhooks/{webhook}", {"enabled": False}),
    ("DELETE", "/webhooks/{webhook}", None),
    ("GET", "/webhooks/{webhook}/deliveries", None),
    ("POST", "/webhooks/{webhook}/deliveries/{delivery}/retry", None),
]


def test_the_isolation_matrix_covers_every_id_route_of_the_table():
    matrix = {(m, API + re.sub(r"\{\w+\}", "{id}", p)) for m, p, _ in ID_ROUTES}
    ids = {(r.method, re.sub(r"\{\w+\}", "{id}", r.path)) for r in ROUTES if "{id}" in r.path}
    assert matrix == ids


@pytest.mark.parametrize(
    ("method", "path", "body"), ID_ROUTES, ids=[f"{m} {p}" for m, p, _ in ID_ROUTES]
)
async def test_another_tenants_ids_are_404_and_change_nothing_there(
    client, tenant, other_tenant, seeder, method, path, body
):
    # A fresh customer with no orders, so a DELETE that got through would really delete it.
    customer = seeder.customer(other_tenant)
    theirs = product(seeder, other_tenant, stock=5)
    order = await placed_order(
        client, headers_for(seeder, other_tenant), seeder.customer(other_tenant), (theirs, 1)
    )
    ids = {
        "customer": customer,
        "product": theirs,
        "order": order["id"],
        "invoice": order["invoice"]["id"],
        "api_key": seeder.run(
            other_tenant.id,
            "select id from api_keys where key_hash = %s",
            (tokens.digest(seeder.api_key(other_tenant)),),
        )[0][0],
    }
    ids |= _webhook_and_delivery(seeder, other_tenant)
    before = tenant_state(seeder, other_tenant)
    resp = await client.request(
        method, API + path.format(**ids), json=body, headers=headers_for(seeder, tenant)
    )
    await assert_problem(resp, 404, "not-found")
    assert tenant_state(seeder, other_tenant) == before
