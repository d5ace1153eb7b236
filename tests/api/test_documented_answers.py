"""Every route answers exactly what its row documents: the JSON a client gets has the fields
of the route's response schema (the one in /openapi.json), no more and no fewer, all the way
down. A field added to a domain type but not to the answer's schema, or the other way round,
fails here."""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import Schema, fields

from app.api.routes import ROUTES, ROUTES_BY_NAME
from tests.support.sales import API, headers_for, order_body, product
from tests.support.seeder import PASSWORD


def documented(schema: Schema | type[Schema]) -> dict[str, Any]:
    """The shape a schema documents: field name -> the shape of a nested value, or None."""
    instance = schema() if isinstance(schema, type) else schema
    return {field.data_key or name: _shape(field) for name, field in instance.dump_fields.items()}


def _shape(field: fields.Field[Any]) -> Any:
    if isinstance(field, fields.Nested):
        return documented(field.schema)
    if isinstance(field, fields.List):
        return _shape(field.inner)
    return None


def sent(value: Any, shape: dict[str, Any], where: str) -> None:
    """Assert that `value` has exactly the documented fields, recursively."""
    assert isinstance(value, dict), f"{where}: not an object"
    assert sorted(value) == sorted(shape), (
        f"{where}: sent {sorted(value)}, documented {sorted(shape)}"
    )
    for name, inner in shape.items():
        if inner is None or value[name] is None:
            continue
        items = value[name] if isinstance(value[name], list) else [value[name]]
        assert items, f"{where}.{name}: an empty list proves nothing; make data for it"
        for i, item in enumerate(items):
            sent(item, inner, f"{where}.{name}[{i}]")


async def feed_and_webhooks(call: Any, seeder: Any, tenant: Any) -> None:
    """The change feed's and the webhook endpoints' answers, one of each."""
    await call("events.list", f"{API}/events?limit=3")
    hook = await call("webhooks.create", f"{API}/webhooks", json={"url": "http://127.0.0.1:9/h"})
    hooks = f"{API}/webhooks/{hook['id']}"
    await call("webhooks.list", f"{API}/webhooks")
    await call("webhooks.get", hooks)
    await call("webhooks.patch", hooks, json={"description": "documented"})
    # One failed attempt in its log (the deliverer's work; no deliverer runs here).
    (event_id,) = seeder.run(tenant.id, "select id from events order by position limit 1")[0]
    (delivery,) = seeder.run(
        tenant.id,
        "insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_position,"
        " event_type, attempt, outcome, status_code, duration_ms, error)"
        " values (%s, %s, %s, 1, 'customer.created', 1, 'failed', 500, 12, 'HTTP 500')"
        " returning id",
        (str(tenant.id), hook["id"], str(event_id)),
    )[0]
    await call("webhooks.deliveries", f"{hooks}/deliveries")
    await call("webhooks.retry", f"{hooks}/deliveries/{delivery}/retry")


async def test_every_route_sends_exactly_the_fields_it_documents(make_client, tenant, seeder):
    client = await make_client(
        webhook_secret_key="a-test-key-of-32-characters-long", webhook_allow_private=True
    )
    headers = headers_for(seeder, tenant)
    customer = seeder.customer(tenant, name="Documented")
    low = product(seeder, tenant, stock=1)  # low stock, so the dashboard lists an item
    answers: dict[str, Any] = {}

    async def call(name: str, path: str, **kwargs: Any) -> Any:
        route = ROUTES_BY_NAME[name]
        resp = await client.request(route.method, path, headers=headers, **kwargs)
        assert resp.status == route.status, (name, await resp.text())
        answers[name] = await resp.json()
        return answers[name]

    login = {"email": tenant.users["admin"].email, "password": PASSWORD}
    await call("auth.login", f"{API}/auth/login", json=login)
    await call("auth.me", f"{API}/auth/me")
    key = await call("api_keys.create", f"{API}/api-keys", json={"name": "doc", "role": "sales"})
    await client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {key['key']}"})
    await call("api_keys.list", f"{API}/api-keys")
    await call("customers.list", f"{API}/customers")
    await call("customers.get", f"{API}/customers/{customer}")
    email = f"doc-{uuid.uuid4().hex[:8]}@example.test"
    made = await call("customers.create", f"{API}/customers", json={"name": "D", "email": email})
    await call("customers.patch", f"{API}/customers/{made['id']}", json={"phone": "123"})
    sku = f"DOC-{uuid.uuid4().hex[:8]}"
    new = {"sku": sku, "name": "Doc", "unit_price": "2.50", "stock": 5}
    made = await call("products.create", f"{API}/products", json=new)
    await call("products.patch", f"{API}/products/{made['id']}", json={"name": "Doc 2"})
    await call("products.list", f"{API}/products")
    await call("products.get", f"{API}/products/{made['id']}")
    adjust = f"{API}/products/{made['id']}/stock-adjustments"
    await call("products.adjust_stock", adjust, json={"delta": 1, "note": "found one"})
    body = order_body(customer, (low, 1))
    order = await call("orders.create", f"{API}/orders", json=body)
    await call("orders.list", f"{API}/orders")
    await call("orders.get", f"{API}/orders/{order['id']}")
    invoice = order["invoice"]["id"]
    await call("invoices.list", f"{API}/invoices")
    await call("invoices.get", f"{API}/invoices/{invoice}")
    await call("dashboard", f"{API}/dashboard")
    await call("invoices.pay", f"{API}/invoices/{invoice}/pay", json={"method": "card"})
    second = await call(
        "orders.create", f"{API}/orders", json=order_body(customer, (made["id"], 1))
    )
    await call("orders.cancel", f"{API}/orders/{second['id']}/cancel", json={"reason": "doc"})
    await feed_and_webhooks(call, seeder, tenant)

    answering = {r.name for r in ROUTES if r.response is not None and r.path.startswith(API)}
    assert set(answers) == answering, "every documented answer is checked"
    for name, answer in answers.items():
        sent(answer, documented(ROUTES_BY_NAME[name].response), name)
