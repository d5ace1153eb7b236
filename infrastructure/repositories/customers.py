"""Customers: tenant-filtered reads, and the writes a UnitOfWork hands out."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa

from domain.errors import Conflict
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.paging import Page, PageRequest
from domain.ports import CustomerFilter
from infrastructure.db.errors import ForeignKeyViolation, UniqueViolation
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import sql
from infrastructure.db.tables import customers
from infrastructure.db.writes import TenantWrites
from infrastructure.repositories.paging import FilteredList, after, like_pattern, to_page

_COLUMNS = (
    customers.c.id,
    customers.c.name,
    customers.c.email,
    customers.c.phone,
    customers.c.created_at,
    customers.c.updated_at,
)
_of_tenant = customers.c.tenant_id == sa.bindparam("tenant_id")
_newest_first = (customers.c.created_at.desc(), customers.c.id.desc())
_after = after(customers.c.created_at, customers.c.id)
_matches = sa.or_(
    customers.c.name.ilike(sa.bindparam("q")), customers.c.email.ilike(sa.bindparam("q"))
)


_get = sql(sa.select(*_COLUMNS).where(_of_tenant, customers.c.id == sa.bindparam("id")))
_list = FilteredList(
    lambda conditions: sql(
        sa.select(*_COLUMNS)
        .where(_of_tenant, *conditions)
        .order_by(*_newest_first)
        .limit(sa.bindparam("limit"))
    ),
    after=_after,
    conditions={"q": _matches, "email": customers.c.email == sa.bindparam("email")},
    values={"q": like_pattern},
)


def _customer(row: Any) -> Customer:
    return Customer(*row)


class CustomerReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def get(self, tenant_id: UUID, customer_id: UUID) -> Customer | None:
        row = await self._reads.fetch_one(tenant_id, _get, {"id": customer_id})
        return Customer(*row) if row else None

    async def list(
        self, tenant_id: UUID, page: PageRequest, where: CustomerFilter
    ) -> Page[Customer]:
        stmt, params = _list.query(page, where)
        rows = await self._reads.fetch_all(tenant_id, stmt, params)
        return to_page(rows, page, _customer, lambda c: (c.created_at, c.id))


_insert = sql(
    sa.insert(customers)
    .values(
        tenant_id=sa.bindparam("tenant_id"),
        name=sa.bindparam("name"),
        email=sa.bindparam("email"),
        phone=sa.bindparam("phone"),
    )
    .returning(*_COLUMNS),
)
_delete = sql(
    sa.delete(customers)
    .where(_of_tenant, customers.c.id == sa.bindparam("id"))
    .returning(customers.c.id),
)

# FOR KEY SHARE: the customer cannot be deleted until the order that names it commits (a
# delete in between would otherwise fail the order's foreign key late, as a 500).
_exists = sql(
    sa.select(customers.c.id)
    .where(_of_tenant, customers.c.id == sa.bindparam("id"))
    .with_for_update(read=True, key_share=True),
)


def _update_statement(fields: tuple[str, ...]) -> Any:
    values: dict[str, Any] = {name: sa.bindparam(f"new_{name}") for name in fields}
    return sql(
        sa.update(customers)
        .where(_of_tenant, customers.c.id == sa.bindparam("id"))
        .values(**values, updated_at=sa.func.now())
        .returning(*_COLUMNS),
    )


_updates: dict[tuple[str, ...], Any] = {}


class CustomerWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def add(self, new: NewCustomer) -> Customer:
        params = {
            "name": new.name,
            "email": new.email,
            "phone": new.phone,
        }
        try:
            rows = await self._writes.execute(_insert, params)
        except UniqueViolation as exc:
            raise Conflict("a customer with this email already exists") from exc
        return Customer(*rows[0])

    async def update(self, customer_id: UUID, changes: CustomerChanges) -> Customer | None:
        values: dict[str, Any] = {}
        if changes.name is not None:
            values["name"] = changes.name
        if changes.email is not None:
            values["email"] = changes.email
        if changes.phone is not None or changes.clear_phone:
            values["phone"] = changes.phone
        fields = tuple(sorted(values))
        stmt = _updates.get(fields)
        if stmt is None:  # at most 7 shapes; each compiled once
            stmt = _updates[fields] = _update_statement(fields)
        params = {f"new_{k}": v for k, v in values.items()}
        params |= {"id": customer_id}
        try:
            rows = await self._writes.execute(stmt, params)
        except UniqueViolation as exc:
            raise Conflict("a customer with this email already exists") from exc
        return Customer(*rows[0]) if rows else None

    async def delete(self, customer_id: UUID) -> bool:
        try:
            rows = await self._writes.execute(_delete, {"id": customer_id})
        except ForeignKeyViolation as exc:
            raise Conflict("the customer has orders and cannot be deleted") from exc
        return bool(rows)

    async def exists(self, customer_id: UUID) -> bool:
        rows = await self._writes.execute(_exists, {"id": customer_id})
        return bool(rows)
