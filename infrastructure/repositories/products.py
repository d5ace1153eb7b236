"""Products: tenant-filtered reads, and the locked stock writes a UnitOfWork hands out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from domain.errors import Conflict
from domain.model.orders import PricedProduct
from domain.model.paging import Page, PageRequest
from domain.model.products import Movement, NewProduct, Product, ProductChanges
from domain.ports import ProductFilter
from infrastructure.db.errors import UniqueViolation
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import Sql, raw, sql
from infrastructure.db.tables import products
from infrastructure.db.writes import TenantWrites
from infrastructure.repositories.paging import FilteredList, after, like_pattern, to_page

_COLUMNS = (
    products.c.id,
    products.c.sku,
    products.c.name,
    products.c.unit_price,
    products.c.stock,
    products.c.active,
    products.c.created_at,
    products.c.updated_at,
)
_of_tenant = products.c.tenant_id == sa.bindparam("tenant_id")
_matches = sa.or_(products.c.name.ilike(sa.bindparam("q")), products.c.sku.ilike(sa.bindparam("q")))
_low = products.c.stock <= sa.bindparam("low_stock")


def _product(row: Any) -> Product:
    return Product(*row)


_list = FilteredList(
    lambda conditions: sql(
        sa.select(*_COLUMNS)
        .where(_of_tenant, *conditions)
        .order_by(products.c.created_at.desc(), products.c.id.desc())
        .limit(sa.bindparam("limit"))
    ),
    after=after(products.c.created_at, products.c.id),
    conditions={
        "q": _matches,
        "low_stock": _low,
        "active": products.c.active == sa.bindparam("active"),
    },
    values={"q": like_pattern},
)
_get = sql(sa.select(*_COLUMNS).where(_of_tenant, products.c.id == sa.bindparam("id")))


class ProductReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def get(self, tenant_id: UUID, product_id: UUID) -> Product | None:
        row = await self._reads.fetch_one(tenant_id, _get, {"id": product_id})
        return _product(row) if row else None

    async def list(self, tenant_id: UUID, page: PageRequest, where: ProductFilter) -> Page[Product]:
        stmt, params = _list.query(page, where)
        rows = await self._reads.fetch_all(tenant_id, stmt, params)
        return to_page(rows, page, _product, lambda p: (p.created_at, p.id))


_insert = sql(
    sa.insert(products)
    .values(
        tenant_id=sa.bindparam("tenant_id"),
        sku=sa.bindparam("sku"),
        name=sa.bindparam("name"),
        unit_price=sa.bindparam("unit_price"),
        stock=sa.bindparam("stock"),
        active=sa.bindparam("active"),
    )
    .returning(*_COLUMNS),
)
# Locks in id order: ORDER BY sits below the row-locking step, so rows are locked as sorted.
_lock = sql(
    sa.select(products.c.id, products.c.unit_price, products.c.stock, products.c.active)
    .where(_of_tenant, products.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(PG_UUID))))
    .order_by(products.c.id)
    .with_for_update(),
)
# One statement for every line; the rows are already locked, and the CHECK (stock >= 0)
# constraint is the last line of defence should a caller ever skip the lock.
_apply = raw(
    "update products p set stock = p.stock + d.delta, updated_at = now()"
    " from unnest(%(ids)s::uuid[], %(deltas)s::int[]) as d(id, delta)"
    " where p.id = d.id and p.tenant_id = %(tenant_id)s",
)
_add_movements = raw(
    "insert into inventory_movements (tenant_id, product_id, delta, reason, order_id, note)"
    " select %(tenant_id)s, m.product_id, m.delta, m.reason, m.order_id, m.note"
    " from unnest(%(product_ids)s::uuid[], %(deltas)s::int[], %(reasons)s::text[],"
    " %(order_ids)s::uuid[], %(notes)s::text[]) as m(product_id, delta, reason, order_id, note)",
)


def _update_statement(fields: tuple[str, ...]) -> Sql:
    values: dict[str, Any] = {name: sa.bindparam(f"new_{name}") for name in fields}
    return sql(
        sa.update(products)
        .where(_of_tenant, products.c.id == sa.bindparam("id"))
        .values(**values, updated_at=sa.func.now())
        .returning(*_COLUMNS)
    )


_updates = {
    fields: _update_statement(fields)
    for fields in [
        tuple(f for f, on in zip(("active", "name", "unit_price"), mask, strict=True) if on)
        for mask in [(a, n, u) for a in (0, 1) for n in (0, 1) for u in (0, 1)]
    ]
    if fields
}


class ProductWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def add(self, new: NewProduct) -> Product:
        params = {
            "sku": new.sku,
            "name": new.name,
            "unit_price": new.unit_price,
            "stock": new.stock,
            "active": new.active,
        }
        try:
            rows = await self._writes.execute(_insert, params)
        except UniqueViolation as exc:
            raise Conflict(f"a product with SKU {new.sku!r} already exists") from exc
        return _product(rows[0])

    async def update(self, product_id: UUID, changes: ProductChanges) -> Product | None:
        values = {
            k: v
            for k, v in (
                ("active", changes.active),
                ("name", changes.name),
                ("unit_price", changes.unit_price),
            )
            if v is not None
        }
        params = {f"new_{k}": v for k, v in values.items()} | {
            "id": product_id,
        }
        rows = await self._writes.execute(_updates[tuple(values)], params)
        return _product(rows[0]) if rows else None

    async def lock(self, product_ids: Sequence[UUID]) -> dict[UUID, PricedProduct]:
        rows = await self._writes.execute(_lock, {"ids": list(product_ids)})
        return {row[0]: PricedProduct(*row) for row in rows}

    async def apply(self, deltas: Sequence[tuple[UUID, int]]) -> None:
        await self._writes.execute(
            _apply,
            {
                "ids": [pid for pid, _ in deltas],
                "deltas": [d for _, d in deltas],
            },
        )


class MovementWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def add(self, movements: Sequence[Movement]) -> None:
        await self._writes.execute(
            _add_movements,
            {
                "product_ids": [m.product_id for m in movements],
                "deltas": [m.delta for m in movements],
                "reasons": [m.reason for m in movements],
                "order_ids": [m.order_id for m in movements],
                "notes": [m.note for m in movements],
            },
        )
