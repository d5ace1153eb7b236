"""Client flows through the client openapi-python-client generated from /openapi.json.

Run by tests/contract/test_generated_client.py as `python generated_flow.py FLOW BASE TENANT
EMAIL PASSWORD PRODUCT_ID`, with the generated package `sales_client` on the path, after
`mypy --strict` passed over this file and that package. Not collected by pytest: it needs
that package, which exists only in the test's temporary directory.

FLOW is `bearer` (an AuthenticatedClient with the login's token), `cookie` (a plain Client
whose cookie jar keeps the session: body-less commands included) or `consistency` (a
bearer client that sends each command's Consistency-Token back on its next read).
"""

from __future__ import annotations

import sys
import uuid
from decimal import Decimal
from http import HTTPStatus

from sales_client import AuthenticatedClient, Client
from sales_client.api.auth import auth_login
from sales_client.api.customers import customers_create, customers_delete
from sales_client.api.events import events_list
from sales_client.api.invoices import invoices_pay
from sales_client.api.orders import orders_cancel, orders_create, orders_list
from sales_client.api.products import products_create, products_get
from sales_client.models import (
    CustomerCreate,
    CustomerOut,
    EventPage,
    InvoiceOut,
    LineIn,
    LoginRequest,
    LoginResponse,
    OrderCreate,
    OrderOut,
    OrderPage,
    OrdersListStatus,
    PaymentRequest,
    Problem,
    ProblemErrors,
    ProductCreate,
    ProductOut,
)
from sales_client.types import UNSET, Unset


def log_in(client: Client, email: str, password: str) -> LoginResponse:
    login = auth_login.sync_detailed(
        client=client, body=LoginRequest(email=email, password=password)
    )
    assert login.status_code == HTTPStatus.OK, login.content
    assert isinstance(login.parsed, LoginResponse)
    assert login.headers["Cache-Control"] == "no-store"
    return login.parsed


def new_customer(api: AuthenticatedClient | Client) -> CustomerOut:
    email = f"gen-{uuid.uuid4().hex[:8]}@example.test"
    made = customers_create.sync_detailed(
        client=api, body=CustomerCreate(name="Generated Client", email=email)
    )
    assert made.status_code == HTTPStatus.CREATED, made.content
    assert isinstance(made.parsed, CustomerOut)
    assert made.headers["Location"].endswith(str(made.parsed.id))
    return made.parsed


def place(api: AuthenticatedClient | Client, customer: CustomerOut, product_id: str) -> OrderOut:
    order = orders_create.sync_detailed(
        client=api,
        body=OrderCreate(
            customer_id=customer.id, lines=[LineIn(product_id=uuid.UUID(product_id), quantity=2)]
        ),
        idempotency_key=uuid.uuid4().hex,
    )
    assert order.status_code == HTTPStatus.CREATED, order.content
    assert isinstance(order.parsed, OrderOut)
    return order.parsed


def bearer(base: str, tenant: str, email: str, password: str, product_id: str) -> None:
    with Client(base_url=base, headers={"X-Tenant": tenant}) as anonymous:
        token = log_in(anonymous, email, password).token
    with AuthenticatedClient(base_url=base, token=token, headers={"X-Tenant": tenant}) as api:
        customer = new_customer(api)
        order = place(api, customer, product_id)
        invoice = order.invoice
        assert invoice is not None and invoice.status == "open"
        paid = invoices_pay.sync_detailed(
            invoice.id, client=api, body=PaymentRequest(method="card", reference="gen-1")
        )
        assert paid.status_code == HTTPStatus.OK, paid.content
        assert isinstance(paid.parsed, InvoiceOut)
        assert (paid.parsed.status, paid.parsed.payment_reference) == ("paid", "gen-1")
        assert paid.parsed.amount == order.total

        walked = walk_feed(api)
        assert [kind for kind, _ in walked[-4:]] == [
            "customer.created",
            "order.placed",
            "invoice.issued",
            "invoice.paid",
        ], walked
        assert walked[-4][1] == str(customer.id)
        assert walked[-1][1] == str(invoice.id)
        # A filter's enum is one type, and a problem's errors are typed.
        placed = orders_list.sync_detailed(client=api, status=OrdersListStatus.PLACED, limit=5)
        assert isinstance(placed.parsed, OrderPage), placed.content
        assert all(o.status == "placed" for o in placed.parsed.items)
        refused = orders_create.sync_detailed(
            client=api,
            body=OrderCreate(customer_id=order.customer_id, lines=[]),
        )
        assert refused.status_code == HTTPStatus.UNPROCESSABLE_ENTITY, refused.content
        assert isinstance(refused.parsed, Problem)
        assert isinstance(refused.parsed.errors, ProblemErrors), refused.content
        messages: list[str] = refused.parsed.errors["lines"]
        assert messages and all(isinstance(message, str) for message in messages)


def cookie(base: str, tenant: str, email: str, password: str, product_id: str) -> None:
    # One plain client: login's Set-Cookie stays in its jar and authenticates what follows.
    with Client(base_url=base, headers={"X-Tenant": tenant}) as api:
        log_in(api, email, password)
        gone = customers_delete.sync_detailed(new_customer(api).id, client=api)
        assert gone.status_code == HTTPStatus.NO_CONTENT, gone.content
        customer = new_customer(api)
        paid_order = place(api, customer, product_id)
        assert paid_order.invoice is not None
        paid = invoices_pay.sync_detailed(paid_order.invoice.id, client=api)  # no body at all
        assert paid.status_code == HTTPStatus.OK, paid.content
        assert isinstance(paid.parsed, InvoiceOut) and paid.parsed.status == "paid"
        cancelled = orders_cancel.sync_detailed(place(api, customer, product_id).id, client=api)
        assert cancelled.status_code == HTTPStatus.OK, cancelled.content
        assert isinstance(cancelled.parsed, OrderOut) and cancelled.parsed.status == "cancelled"


def consistency(base: str, tenant: str, email: str, password: str, product_id: str) -> None:
    with Client(base_url=base, headers={"X-Tenant": tenant}) as anonymous:
        token = log_in(anonymous, email, password).token
    with AuthenticatedClient(base_url=base, token=token, headers={"X-Tenant": tenant}) as api:
        for n in range(20):
            made = products_create.sync_detailed(
                client=api,
                body=ProductCreate(
                    sku=f"GEN-{uuid.uuid4().hex[:10]}",
                    name=f"Generated {n}",
                    unit_price="1.00",
                    stock=1,
                ),
            )
            assert made.status_code == HTTPStatus.CREATED, made.content
            assert isinstance(made.parsed, ProductOut)
            written = made.headers["Consistency-Token"]
            read = products_get.sync_detailed(made.parsed.id, client=api, consistency_token=written)
            assert read.status_code == HTTPStatus.OK, read.content  # never a 404 for it
            assert isinstance(read.parsed, ProductOut)
            assert Decimal(read.parsed.unit_price) == Decimal("1.00")


def walk_feed(api: AuthenticatedClient) -> list[tuple[str, str]]:
    """The whole change feed, two events a page: (type, the resource's id) of each."""
    walked: list[tuple[str, str]] = []
    after: str | Unset = UNSET
    while True:
        page = events_list.sync_detailed(client=api, after=after, limit=2)
        assert page.status_code == HTTPStatus.OK, page.content
        assert isinstance(page.parsed, EventPage)
        for item in page.parsed.items:
            kind = getattr(item.type_, "value", item.type_)
            walked.append((str(kind), str(item.data.to_dict()["id"])))
        if not page.parsed.items:
            return walked
        after = page.parsed.next_


FLOWS = {"bearer": bearer, "cookie": cookie, "consistency": consistency}

if __name__ == "__main__":
    FLOWS[sys.argv[1]](*sys.argv[2:7])
    print("flow ok")
