"""One tenant's shop on in-memory fakes: the store, a clock, every command service, and helpers
that seed committed rows with unique ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from uuid import UUID, uuid4

from domain.model.customers import Customer
from domain.model.identity import Principal
from domain.model.orders import LineRequest, Order, PlaceOrder
from domain.model.products import Product
from domain.services.invoices import InvoiceService
from domain.services.orders import OrderService
from domain.services.products import ProductService
from tests.unit.fakes import (
    FakeInvoiceReader,
    FakeOrderReader,
    FakeProductReader,
    FakeUnitOfWorkFactory,
    FixedClock,
    Store,
)


@dataclass
class Shop:
    tenant_id: UUID = field(default_factory=uuid4)
    store: Store = field(default_factory=Store)
    clock: FixedClock = field(default_factory=FixedClock)

    def __post_init__(self) -> None:
        self.uows = FakeUnitOfWorkFactory(self.store, self.clock)
        self.orders = OrderService(FakeOrderReader(self.store), self.uows, self.clock)
        self.invoices = InvoiceService(FakeInvoiceReader(self.store), self.uows, self.clock)
        self.products = ProductService(FakeProductReader(self.store), self.uows)

    @property
    def admin(self) -> Principal:
        return Principal(self.tenant_id, "admin", user_id=uuid4())

    @property
    def sales(self) -> Principal:
        return Principal(self.tenant_id, "sales", user_id=uuid4())

    def customer(self) -> Customer:
        now = self.clock.now()
        customer = Customer(uuid4(), "Ada", f"{uuid4().hex}@example.test", None, now, now)
        self.store.customers[(self.tenant_id, customer.id)] = customer
        return customer

    def product(self, stock: int = 10, unit_price: str = "2.50", *, active: bool = True) -> Product:
        now = self.clock.now()
        sku = f"SKU-{uuid4().hex[:8]}"
        product = Product(uuid4(), sku, "Widget", Decimal(unit_price), stock, active, now, now)
        self.store.products[(self.tenant_id, product.id)] = product
        return product

    def stock_of(self, product: Product) -> int:
        return self.store.products[(self.tenant_id, product.id)].stock

    async def place(self, customer: Customer, *lines: tuple[Product, int]) -> Order:
        command = PlaceOrder(
            customer.id, tuple(LineRequest(p.id, qty) for p, qty in lines), note="by phone"
        )
        return await self.orders.place(self.tenant_id, command)
