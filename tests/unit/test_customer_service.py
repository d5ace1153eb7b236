"""CustomerService on in-memory fakes: what is committed, and what is refused before a write."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest

from domain.errors import Conflict, InvalidInput, NotFound
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.paging import PageRequest
from domain.ports import CustomerFilter
from domain.services.customers import CustomerService
from tests.unit.fakes import FakeCustomerReader, FakeUnitOfWorkFactory, FixedClock, Store


@dataclass
class Customers:
    tenant_id: UUID
    store: Store
    clock: FixedClock
    uows: FakeUnitOfWorkFactory
    service: CustomerService

    def add(self, email: str = "ada@example.test", phone: str | None = "+44 1") -> Customer:
        now = self.clock.now()
        customer = Customer(uuid4(), "Ada", email, phone, now, now)
        self.store.customers[(self.tenant_id, customer.id)] = customer
        return customer


@pytest.fixture
def customers() -> Customers:
    store, clock = Store(), FixedClock()
    uows = FakeUnitOfWorkFactory(store, clock)
    service = CustomerService(FakeCustomerReader(store), uows)
    return Customers(uuid4(), store, clock, uows, service)


# ---- create ----------------------------------------------------------------------------------


async def test_create_normalises_the_email_trims_the_name_and_commits(customers: Customers) -> None:
    created = await customers.service.create(
        customers.tenant_id, NewCustomer("  Ada Lovelace ", " Ada@Example.TEST ", "+44 1")
    )

    assert (created.name, created.email, created.phone) == (
        "Ada Lovelace",
        "ada@example.test",
        "+44 1",
    )
    assert customers.uows.commits == 1
    assert customers.uows.opened[0].tenant_id == customers.tenant_id
    assert customers.store.customers == {(customers.tenant_id, created.id): created}


async def test_create_with_a_taken_email_propagates_the_conflict_and_commits_nothing(
    customers: Customers,
) -> None:
    existing = customers.add(email="ada@example.test")
    before = customers.store.copy()

    with pytest.raises(Conflict):
        await customers.service.create(customers.tenant_id, NewCustomer("Ada", "ADA@example.test"))

    assert customers.uows.commits == 0 and customers.uows.opened[0].exited
    assert customers.store == before
    assert list(customers.store.customers.values()) == [existing]


# ---- update ----------------------------------------------------------------------------------


async def test_update_with_no_fields_raises_invalid_input_and_opens_no_unit_of_work(
    customers: Customers,
) -> None:
    customer = customers.add()

    with pytest.raises(InvalidInput) as raised:
        await customers.service.update(customers.tenant_id, customer.id, CustomerChanges())

    assert "_schema" in raised.value.errors
    assert customers.uows.opened == []


async def test_update_changes_only_the_given_fields_normalises_the_email_and_commits(
    customers: Customers,
) -> None:
    customer = customers.add(phone="+44 1")

    updated = await customers.service.update(
        customers.tenant_id, customer.id, CustomerChanges(email=" New@Example.TEST ")
    )

    assert (updated.name, updated.email, updated.phone) == ("Ada", "new@example.test", "+44 1")
    assert customers.uows.commits == 1
    assert customers.store.customers[(customers.tenant_id, customer.id)] == updated


async def test_update_with_clear_phone_removes_the_phone(customers: Customers) -> None:
    customer = customers.add(phone="+44 1")

    updated = await customers.service.update(
        customers.tenant_id, customer.id, CustomerChanges(clear_phone=True)
    )

    assert updated.phone is None and customers.uows.commits == 1


async def test_update_of_a_missing_customer_raises_not_found_and_commits_nothing(
    customers: Customers,
) -> None:
    customers.add()
    before = customers.store.copy()

    with pytest.raises(NotFound):
        await customers.service.update(customers.tenant_id, uuid4(), CustomerChanges(name="X"))

    assert customers.uows.commits == 0 and customers.store == before


async def test_update_of_another_tenants_customer_raises_not_found_and_commits_nothing(
    customers: Customers,
) -> None:
    theirs = customers.add()

    with pytest.raises(NotFound):
        await customers.service.update(uuid4(), theirs.id, CustomerChanges(name="Mine"))

    assert customers.uows.commits == 0
    assert customers.store.customers[(customers.tenant_id, theirs.id)] == theirs


async def test_update_to_a_taken_email_propagates_the_conflict_and_commits_nothing(
    customers: Customers,
) -> None:
    customers.add(email="taken@example.test")
    customer = customers.add(email="mine@example.test")
    before = customers.store.copy()

    with pytest.raises(Conflict):
        await customers.service.update(
            customers.tenant_id, customer.id, CustomerChanges(email="TAKEN@example.test")
        )

    assert customers.uows.commits == 0 and customers.store == before


# ---- delete and get --------------------------------------------------------------------------


async def test_delete_removes_the_customer_and_commits(customers: Customers) -> None:
    customer = customers.add()

    await customers.service.delete(customers.tenant_id, customer.id)

    assert customers.uows.commits == 1 and customers.store.customers == {}


async def test_delete_of_a_missing_customer_raises_not_found_and_commits_nothing(
    customers: Customers,
) -> None:
    customers.add()
    before = customers.store.copy()

    with pytest.raises(NotFound):
        await customers.service.delete(customers.tenant_id, uuid4())

    assert customers.uows.commits == 0 and customers.store == before


async def test_delete_of_a_customer_with_orders_propagates_the_conflict_and_commits_nothing(
    customers: Customers,
) -> None:
    customer = customers.add()
    customers.store.customers_with_orders.add(customer.id)
    before = customers.store.copy()

    with pytest.raises(Conflict):
        await customers.service.delete(customers.tenant_id, customer.id)

    assert customers.uows.commits == 0 and customers.store == before


async def test_get_of_a_missing_customer_raises_not_found(customers: Customers) -> None:
    with pytest.raises(NotFound):
        await customers.service.get(customers.tenant_id, uuid4())


async def test_get_reads_without_opening_a_unit_of_work(customers: Customers) -> None:
    customer = customers.add()
    assert await customers.service.get(customers.tenant_id, customer.id) == customer
    assert customers.uows.opened == []


# ---- list ------------------------------------------------------------------------------------


async def test_the_email_filter_matches_the_stored_normalised_email_across_pages(
    customers: Customers,
) -> None:
    wanted = customers.add(email="ada@example.test")
    for i in range(3):
        customers.add(email=f"other-{i}@example.test")
    page = await customers.service.list(
        customers.tenant_id, PageRequest(limit=1), CustomerFilter(email="  ADA@example.TEST ")
    )
    assert (page.items, page.next_cursor) == ([wanted], None)
