"""A short client flow through the client openapi-python-client generated from /openapi.json.

Run by tests/contract/test_generated_client.py as `python generated_flow.py BASE TENANT EMAIL
PASSWORD PRODUCT_ID`, with the generated package `sales_client` on the path. Not collected by
pytest: it needs that package, which exists only in the test's temporary directory.
"""

from __future__ import annotations

import sys
import uuid
from http import HTTPStatus

from sales_client import AuthenticatedClient, Client
from sales_client.api.auth import auth_login
from sales_client.api.customers import customers_create
from sales_client.api.events import events_list
from sales_client.api.invoices import invoices_pay
from sales_client.api.orders import orders_create
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
    PaymentRequest,
)


def main(base: str, tenant: str, email: str, password: str, product_id: str) -> None:
    with Client(base_url=base, headers={"X-Tenant": tenant}) as anonymous:
        login = auth_login.sync_detailed(
            client=anonymous, body=LoginRequest(email=email, password=password)
        )
    assert login.status_code == HTTPStatus.OK, login.content
    assert isinstance(login.parsed, LoginResponse)
    assert login.headers["Cache-Control"] == "no-store"
    token = login.parsed.token

    with AuthenticatedClient(base_url=base, token=token, headers={"X-Tenant": tenant}) as api:
        email = f"gen-{uuid.uuid4().hex[:8]}@example.test"
        customer = customers_create.sync_detailed(
            client=api, body=CustomerCreate(name="Generated Client", email=email)
        )
        assert customer.status_code == HTTPStatus.CREATED, customer.content
        assert isinstance(customer.parsed, CustomerOut)
        assert customer.headers["Location"].endswith(str(customer.parsed.id))

        order = orders_create.sync_detailed(
            client=api,
            body=OrderCreate(
                customer_id=customer.parsed.id,
                lines=[LineIn(product_id=uuid.UUID(product_id), quantity=2)],
            ),
            idempotency_key=uuid.uuid4().hex,
        )
        assert order.status_code == HTTPStatus.CREATED, order.content
        assert isinstance(order.parsed, OrderOut)
        invoice = order.parsed.invoice
        assert invoice is not None and invoice.status == "open"

        paid = invoices_pay.sync_detailed(
            invoice.id, client=api, body=PaymentRequest(method="card", reference="gen-1")
        )
        assert paid.status_code == HTTPStatus.OK, paid.content
        assert isinstance(paid.parsed, InvoiceOut)
        assert (paid.parsed.status, paid.parsed.payment_reference) == ("paid", "gen-1")
        assert paid.parsed.amount == order.parsed.total

        walked = walk_feed(api)
        assert [kind for kind, _ in walked[-4:]] == [
            "customer.created",
            "order.placed",
            "invoice.issued",
            "invoice.paid",
        ], walked
        assert walked[-4][1] == str(customer.parsed.id)
        assert walked[-1][1] == str(invoice.id)
    print("flow ok")


def walk_feed(api: AuthenticatedClient) -> list[tuple[str, str]]:
    """The whole change feed, two events a page: (type, the resource's id) of each."""
    walked: list[tuple[str, str]] = []
    after = None
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


if __name__ == "__main__":
    main(*sys.argv[1:6])
