"""Customer use cases: list, read, create, change, delete, always within one tenant."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.errors import NotFound, found, require_changes
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.emails import comparable_email, normalize_email
from domain.model.paging import Page, PageRequest
from domain.ports import CustomerFilter, CustomerReader, IdempotencyClaim, UnitOfWorkFactory
from domain.services.catalog import Catalog


class CustomerService(Catalog[Customer, CustomerFilter]):
    def __init__(self, reader: CustomerReader, uow: UnitOfWorkFactory) -> None:
        super().__init__(reader, "customer")
        self._uow = uow

    async def list(
        self, tenant_id: UUID, page: PageRequest, where: CustomerFilter
    ) -> Page[Customer]:
        if where.email is not None:
            where = replace(where, email=comparable_email(where.email))  # stored normalised
        return await super().list(tenant_id, page, where)

    async def create(
        self, tenant_id: UUID, new: NewCustomer, idempotency: IdempotencyClaim | None = None
    ) -> Customer:
        new = NewCustomer(new.name.strip(), normalize_email(new.email), new.phone)
        async with self._uow(tenant_id, idempotency) as uow:
            customer = await uow.customers.add(new)
            uow.events.record("customer.created", customer)
            await uow.commit(customer)
        return customer

    async def update(
        self, tenant_id: UUID, customer_id: UUID, changes: CustomerChanges
    ) -> Customer:
        require_changes(changes)
        if changes.email is not None:
            changes = CustomerChanges(
                changes.name, normalize_email(changes.email), changes.phone, changes.clear_phone
            )
        async with self._uow(tenant_id) as uow:
            customer = found(await uow.customers.update(customer_id, changes), "customer")
            uow.events.record("customer.updated", customer)
            await uow.commit(customer)
        return customer

    async def delete(self, tenant_id: UUID, customer_id: UUID) -> None:
        async with self._uow(tenant_id) as uow:
            if not await uow.customers.delete(customer_id):
                raise NotFound("customer not found")
            uow.events.record("customer.deleted", {"id": customer_id})
            await uow.commit()
