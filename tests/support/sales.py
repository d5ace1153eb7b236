"""Sales test data and checks: products with opening stock, orders over HTTP, database snapshots.

Products are written by the owner Seeder together with the 'adjustment' movement for their
opening stock, so "stock == sum of movements" holds from the first moment, as it does for
products created through the API.
"""

from __future__ import annotations

import uuid
from typing import Any

from infrastructure.db.tables import TENANT_TABLES
from tests.conftest import auth_headers
from tests.support.seeder import SeededTenant, Seeder

API = "/api/sales"
PROBLEM_KEYS = {"type", "title", "status", "detail", "request_id"}

# Every table a sales command can write (the tenant-owned ones but users and sessions).
SALES_TABLES = tuple(t for t in TENANT_TABLES if t not in ("users", "sessions"))


def headers_for(seeder: Seeder, tenant: SeededTenant, role: str = "admin") -> dict[str, str]:
    return auth_headers(tenant, seeder.session(tenant, tenant.users[role]))


def product(
    seeder: Seeder,
    tenant: SeededTenant,
    *,
    stock: int = 10,
    unit_price: str = "10.00",
    name: str | None = None,
    sku: str | None = None,
    active: bool = True,
) -> uuid.UUID:
    """A product and, in the same statement, the movement that explains its opening stock."""
    sku = sku or f"SKU-{uuid.uuid4().hex[:10]}"
    (row,) = seeder.run(
        tenant.id,
        "with p as ("
        "  insert into products (tenant_id, sku, name, unit_price, stock, active)"
        "  values (%(t)s, %(sku)s, %(name)s, %(price)s, %(stock)s, %(active)s)"
        "  returning id, tenant_id, stock),"
        " m as ("
        "  insert into inventory_movements (tenant_id, product_id, delta, reason, note)"
        "  select tenant_id, id, stock, 'adjustment', 'opening stock' from p where stock <> 0)"
        " select id from p",
        {
            "t": str(tenant.id),
            "sku": sku,
            "name": name or sku,
            "price": unit_price,
            "stock": stock,
            "active": active,
        },
    )
    return row[0]


def stock_of(seeder: Seeder, tenant: SeededTenant, product_id: uuid.UUID) -> int:
    (row,) = seeder.run(tenant.id, "select stock from products where id = %s", (product_id,))
    return int(row[0])


def movements_of(
    seeder: Seeder, tenant: SeededTenant, product_id: uuid.UUID
) -> list[tuple[int, str, uuid.UUID | None]]:
    """(delta, reason, order_id) of every movement of the product, oldest first."""
    rows = seeder.run(
        tenant.id,
        "select delta, reason, order_id from inventory_movements where product_id = %s"
        " order by created_at",
        (product_id,),
    )
    return [(int(delta), reason, order_id) for delta, reason, order_id in rows]


def assert_stock_matches_movements(seeder: Seeder, tenant: SeededTenant) -> None:
    """Every product's stock is exactly the sum of its movements: nothing moved off the books."""
    off = seeder.run(
        tenant.id,
        "select p.sku, p.stock, coalesce(sum(m.delta), 0) from products p"
        " left join inventory_movements m on m.product_id = p.id and m.tenant_id = p.tenant_id"
        " where p.tenant_id = %s group by p.id having p.stock <> coalesce(sum(m.delta), 0)",
        (str(tenant.id),),
    )
    assert off == [], f"stock differs from the sum of movements (sku, stock, sum): {off}"


def tenant_state(seeder: Seeder, tenant: SeededTenant) -> dict[str, list[str]]:
    """Every row the tenant owns in every sales table, as text: equal snapshots mean
    nothing was written, changed or deleted in between."""
    return {
        table: [
            text
            for (text,) in seeder.run(
                tenant.id,
                f"select to_jsonb(t)::text from {table} t where t.tenant_id = %s order by 1",
                (str(tenant.id),),
            )
        ]
        for table in SALES_TABLES
    }


def order_body(customer_id: uuid.UUID, *lines: tuple[uuid.UUID, int], **extra: Any) -> dict:
    return {
        "customer_id": str(customer_id),
        "lines": [{"product_id": str(pid), "quantity": qty} for pid, qty in lines],
        **extra,
    }


async def place_order(
    client: Any,
    headers: dict[str, str],
    customer_id: uuid.UUID,
    *lines: tuple[uuid.UUID, int],
    **extra: Any,
) -> Any:
    return await client.post(
        f"{API}/orders", json=order_body(customer_id, *lines, **extra), headers=headers
    )


async def placed_order(
    client: Any, headers: dict[str, str], customer_id: uuid.UUID, *lines: tuple[uuid.UUID, int]
) -> dict[str, Any]:
    """Place an order that must succeed and return its body."""
    resp = await place_order(client, headers, customer_id, *lines)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def every_page(
    client: Any, path: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every page of a list in order, following next_cursor; a list that never ends fails."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while len(pages) < 50:
        query = params | ({"cursor": cursor} if cursor else {})
        resp = await client.get(path, params=query, headers=headers)
        assert resp.status == 200, await resp.text()
        pages.append(await resp.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("paging did not end")


async def assert_problem(resp: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    """The shape every refusal shares; returns the body for further checks."""
    assert resp.status == status, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    body = await resp.json(content_type=None)
    assert PROBLEM_KEYS <= body.keys(), body
    assert body["status"] == status
    if slug is not None:
        assert body["type"].endswith("/" + slug), body["type"]
    return body
