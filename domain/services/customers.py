"""Customer use cases: list, read, create, change, delete, always within one tenant."""

from __future__ import annotations

from uuid import UUID

from domain.errors import InvalidInput, NotFound, found
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.emails import comparable_email, normalize_email
from domain.model.paging import Page, PageRequest
from domain.ports import CustomerReader, IdempotencyClaim, UnitOfWorkFactory


class CustomerService:
    def __init__(self, reader: CustomerReader, uow: UnitOfWorkFactory) -> None:
        self._reader = reader
        self._uow = uow

    async def list(
        self, tenant_id: UUID, page: PageRequest, q: str | None, email: str | None = None
    ) -> Page[Customer]:
        email = comparable_email(email) if email is not None else None  # stored normalised
        return await self._reader.list(tenant_id, page, q, email)

    async def get(self, tenant_id: UUID, customer_id: UUID) -> Customer:
        return found(await self._reader.get(tenant_id, customer_id), "customer")

    async def create(
        self, tenant_id: UUID, new: NewCustomer, idempotency: IdempotencyClaim | None = None
    ) -> Customer:
        new = NewCustomer(new.name.strip(), normalize_email(new.email), new.phone)
        async with self._uow(tenant_id, idempotency) as uow:
            customer = await uow.customers.add(new)
            await uow.commit(customer)
        return customer

    async def update(
        self, tenant_id: UUID, customer_id: UUID, changes: CustomerChanges
    ) -> Customer:
        if changes.is_empty():
            raise InvalidInput("nothing to change", {"_schema": ["give at least one field"]})
        if changes.email is not None:
            changes = CustomerChanges(
                changes.name, normalize_email(changes.email), changes.phone, changes.clear_phone
            )
        async with self._uow(tenant_id) as uow:
            customer = found(await uow.customers.update(customer_id, changes), "customer")
            await uow.commit(customer)
        return customer

    async def delete(self, tenant_id: UUID, customer_id: UUID) -> None:
        async with self._uow(tenant_id) as uow:
            if not await uow.customers.delete(customer_id):
                raise NotFound("customer not found")
            await uow.commit()
