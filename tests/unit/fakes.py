"""In-memory doubles of the ports in domain/ports.py, for service tests without a database.

A unit of work writes to a staged copy of the store, which replaces the store only on commit,
as a transaction would. The fakes keep the promises the real adapters make (tenant scoping,
unique natural keys, gapless invoice numbers, stock never below zero) and record what they were
asked, so tests can check calls as well as state.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID, uuid4

from domain import ports
from domain.errors import Conflict
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.dashboard import Dashboard, LowStockItem
from domain.model.identity import (
    ApiKey,
    NewApiKey,
    NewSession,
    Principal,
    Tenant,
    UserCredentials,
)
from domain.model.money import money
from domain.model.orders import (
    Invoice,
    InvoiceStatus,
    Order,
    OrderLine,
    OrderPlan,
    Payment,
    PricedProduct,
    invoice_number,
)
from domain.model.paging import Keyset, Page, PageRequest
from domain.model.products import Movement, NewProduct, Product, ProductChanges
from domain.model.webhooks import (
    EndpointChanges,
    NewWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
)
from domain.ports import (
    CustomerFilter,
    IdempotencyClaim,
    InvoiceFilter,
    OrderFilter,
    ProductFilter,
)

T = TypeVar("T")
CURRENCY = "EUR"  # what a tenant bills in unless Store.currencies says otherwise


def fake_hash(password: str) -> str:
    """What FakePasswordHasher stores for a password; readable in a failing assertion."""
    return "fake-hash:" + password


class FixedClock(ports.Clock):
    def __init__(self, at: datetime = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


class FakePasswordHasher(ports.PasswordHasher):
    """Not a hash at all: verify() is a string comparison, and every call is recorded."""

    def __init__(self) -> None:
        self.verified: list[tuple[str, str]] = []

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append((password_hash, password))
        return password_hash == fake_hash(password)


@dataclass
class Store:
    """Committed state, shared by the fake readers and the units of work.

    Rows of a tenant are keyed (tenant_id, id). Orders are kept without their invoice, which
    lives in `invoices` and is joined in when an order is read, as in the database.
    """

    tenants: dict[str, Tenant] = field(default_factory=dict)  # by slug
    currencies: dict[UUID, str] = field(default_factory=dict)
    users: dict[tuple[UUID, str], UserCredentials] = field(default_factory=dict)
    sessions: dict[bytes, NewSession] = field(default_factory=dict)
    revoked_sessions: dict[bytes, datetime] = field(default_factory=dict)
    api_keys: dict[bytes, NewApiKey] = field(default_factory=dict)
    api_key_revoked: dict[UUID, datetime] = field(default_factory=dict)
    api_key_used: dict[UUID, datetime] = field(default_factory=dict)
    customers: dict[tuple[UUID, UUID], Customer] = field(default_factory=dict)
    customers_with_orders: set[UUID] = field(default_factory=set)
    products: dict[tuple[UUID, UUID], Product] = field(default_factory=dict)
    movements: list[tuple[UUID, Movement]] = field(default_factory=list)
    orders: dict[tuple[UUID, UUID], Order] = field(default_factory=dict)
    invoices: dict[tuple[UUID, UUID], Invoice] = field(default_factory=dict)
    invoice_counters: dict[UUID, int] = field(default_factory=dict)
    webhooks: dict[UUID, WebhookEndpoint] = field(default_factory=dict)

    def copy(self) -> Store:
        return Store(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(self)})

    def replace_with(self, other: Store) -> None:
        # Copy, not alias: writes after commit must not leak into the store uncommitted.
        for f in fields(self):
            setattr(self, f.name, copy.copy(getattr(other, f.name)))

    def currency(self, tenant_id: UUID) -> str:
        return self.currencies.get(tenant_id, CURRENCY)

    def of_tenant(self, table: dict[tuple[UUID, UUID], T], tenant_id: UUID) -> list[T]:
        return [row for (t, _), row in table.items() if t == tenant_id]

    def with_invoice(self, tenant_id: UUID, order: Order) -> Order:
        invoice = next(
            (i for i in self.of_tenant(self.invoices, tenant_id) if i.order_id == order.id), None
        )
        return replace(order, invoice=invoice)

    def movements_of(self, tenant_id: UUID) -> list[Movement]:
        return [m for t, m in self.movements if t == tenant_id]


# ---- reads -----------------------------------------------------------------------------------


def newest_first(
    rows: Iterable[T], page: PageRequest, key: Callable[[T], tuple[datetime, UUID]]
) -> Page[T]:
    """Keyset paging as the read repositories do it: newest first, id breaks ties."""
    ordered = sorted(rows, key=key, reverse=True)
    if page.after is not None:
        after = (page.after.created_at, page.after.id)
        ordered = [r for r in ordered if key(r) < after]
    items = ordered[: page.limit]
    more = len(ordered) > page.limit
    return Page(items, Keyset(*key(items[-1])).encode() if more and items else None)


class FakeIdentityReader(ports.IdentityReader):
    def __init__(self, store: Store, clock: FixedClock) -> None:
        self._store = store
        self._clock = clock
        self.calls: list[tuple[str, UUID, object]] = []
        self.forgotten: list[tuple[UUID, bytes]] = []
        self.remembers: dict[tuple[UUID, bytes], Principal] = {}

    def forget(self, tenant_id: UUID, token_digest: bytes) -> None:
        self.forgotten.append((tenant_id, token_digest))

    def remembered(self, tenant_id: UUID, token_digest: bytes) -> Principal | None:
        return self.remembers.get((tenant_id, token_digest))  # what a test put there

    async def credentials(self, tenant_id: UUID, email: str) -> UserCredentials | None:
        self.calls.append(("credentials", tenant_id, email))
        return self._store.users.get((tenant_id, email))

    async def principal_for_session(self, tenant_id: UUID, session_id: bytes) -> Principal | None:
        self.calls.append(("session", tenant_id, session_id))
        session = self._store.sessions.get(session_id)
        if (
            session is None
            or session.tenant_id != tenant_id
            or session_id in self._store.revoked_sessions
            or session.expires_at <= self._clock.now()
        ):
            return None
        user = next(u for (t, _), u in self._store.users.items() if u.id == session.user_id)
        return Principal(
            tenant_id,
            user.role,
            user_id=user.id,
            session_id=session_id,
            email=user.email,
            name=user.name,
            expires_at=session.expires_at,
        )

    async def principal_for_api_key(self, tenant_id: UUID, key_hash: bytes) -> Principal | None:
        self.calls.append(("api_key", tenant_id, key_hash))
        key = self._store.api_keys.get(key_hash)
        if (
            key is None
            or key.tenant_id != tenant_id
            or key.id in self._store.api_key_revoked
            or (key.expires_at is not None and key.expires_at <= self._clock.now())
        ):
            return None
        return Principal(tenant_id, key.role, api_key_id=key.id)

    async def api_keys(self, tenant_id: UUID, page: PageRequest) -> Page[ApiKey]:
        keys = self._store.api_keys.values()
        mine = [_api_key(self._store, k) for k in keys if k.tenant_id == tenant_id]
        return Page(mine[: page.limit], None)


def _api_key(store: Store, new: NewApiKey) -> ApiKey:
    return ApiKey(
        new.id,
        new.name,
        new.role,
        FixedClock().now(),
        new.expires_at,
        store.api_key_used.get(new.id),
        store.api_key_revoked.get(new.id),
    )


class FakeCustomerReader(ports.CustomerReader):
    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, tenant_id: UUID, customer_id: UUID) -> Customer | None:
        return self._store.customers.get((tenant_id, customer_id))

    async def list(
        self, tenant_id: UUID, page: PageRequest, where: CustomerFilter
    ) -> Page[Customer]:
        q, email = where.q, where.email
        mine = self._store.of_tenant(self._store.customers, tenant_id)
        if email is not None:
            mine = [c for c in mine if c.email == email]
        if q:
            needle = q.lower()
            mine = [c for c in mine if needle in c.name.lower() or needle in c.email.lower()]
        return newest_first(mine, page, lambda c: (c.created_at, c.id))


class FakeProductReader(ports.ProductReader):
    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, tenant_id: UUID, product_id: UUID) -> Product | None:
        return self._store.products.get((tenant_id, product_id))

    async def list(self, tenant_id: UUID, page: PageRequest, where: ProductFilter) -> Page[Product]:
        q, low_stock, active = where.q, where.low_stock, where.active
        mine = self._store.of_tenant(self._store.products, tenant_id)
        if active is not None:
            mine = [p for p in mine if p.active == active]
        if q:
            needle = q.lower()
            mine = [p for p in mine if needle in p.name.lower() or needle in p.sku.lower()]
        if low_stock is not None:
            mine = [p for p in mine if p.stock <= low_stock]
        return newest_first(mine, page, lambda p: (p.created_at, p.id))


class FakeOrderReader(ports.OrderReader):
    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, tenant_id: UUID, order_id: UUID) -> Order | None:
        order = self._store.orders.get((tenant_id, order_id))
        return self._store.with_invoice(tenant_id, order) if order else None

    async def list(self, tenant_id: UUID, page: PageRequest, where: OrderFilter) -> Page[Order]:
        mine = [
            self._store.with_invoice(tenant_id, o)
            for o in self._store.of_tenant(self._store.orders, tenant_id)
            if (where.status is None or o.status == where.status)
            and (where.customer_id is None or o.customer_id == where.customer_id)
            and (where.since is None or o.created_at >= where.since)
            and (where.until is None or o.created_at < where.until)
        ]
        return newest_first(mine, page, lambda o: (o.created_at, o.id))


class FakeInvoiceReader(ports.InvoiceReader):
    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, tenant_id: UUID, invoice_id: UUID) -> Invoice | None:
        return self._store.invoices.get((tenant_id, invoice_id))

    async def list(self, tenant_id: UUID, page: PageRequest, where: InvoiceFilter) -> Page[Invoice]:
        mine = [
            i
            for i in self._store.of_tenant(self._store.invoices, tenant_id)
            if (where.status is None or i.status == where.status)
            and (where.order_id is None or i.order_id == where.order_id)
            and (where.customer_id is None or self._customer_of(tenant_id, i) == where.customer_id)
            and (where.since is None or i.issued_at >= where.since)
            and (where.until is None or i.issued_at < where.until)
        ]
        return newest_first(mine, page, lambda i: (i.issued_at, i.id))

    def _customer_of(self, tenant_id: UUID, invoice: Invoice) -> UUID | None:
        order = self._store.orders.get((tenant_id, invoice.order_id))
        return order.customer_id if order else None


class FakeDashboardReader(ports.DashboardReader):
    """The figures of infrastructure/repositories/dashboard.py, counted from the store."""

    def __init__(self, store: Store, clock: FixedClock) -> None:
        self._store = store
        self._clock = clock
        self.calls: list[tuple[UUID, int]] = []

    async def summary(self, tenant_id: UUID, low_stock_threshold: int) -> Dashboard:
        self.calls.append((tenant_id, low_stock_threshold))
        store, now = self._store, self._clock.now()
        products = store.of_tenant(store.products, tenant_id)
        orders = store.of_tenant(store.orders, tenant_id)
        placed = [o for o in orders if o.status == "placed"]
        open_invoices = [
            i for i in store.of_tenant(store.invoices, tenant_id) if i.status == "open"
        ]
        low = sorted(
            (p for p in products if p.active and p.stock <= low_stock_threshold),
            key=lambda p: (p.stock, p.sku),
        )[:10]

        def revenue(since: datetime | None) -> Decimal:
            return money(
                sum((o.total for o in placed if since is None or o.created_at >= since), Decimal(0))
            )

        return Dashboard(
            customers=len(store.of_tenant(store.customers, tenant_id)),
            products=len(products),
            low_stock=[LowStockItem(p.id, p.sku, p.name, p.stock) for p in low],
            orders_placed=len(placed),
            orders_cancelled=len(orders) - len(placed),
            revenue_today=revenue(now.replace(hour=0, minute=0, second=0, microsecond=0)),
            revenue_30d=revenue(now - timedelta(days=30)),
            revenue_total=revenue(None),
            open_invoices=len(open_invoices),
            open_invoices_amount=money(sum((i.amount for i in open_invoices), Decimal(0))),
            currency=store.currency(tenant_id),
        )


class FakeKeyUseLog(ports.KeyUseLog):
    """The KeyUseLog port: every use noted, in order."""

    def __init__(self) -> None:
        self.noted: list[tuple[UUID, UUID, datetime]] = []

    def note(self, tenant_id: UUID, key_id: UUID, at: datetime) -> None:
        self.noted.append((tenant_id, key_id, at))


# ---- writes ----------------------------------------------------------------------------------


class FakeSessionWriter(ports.SessionWriter):
    def __init__(self, staged: Store) -> None:
        self._staged = staged

    async def add(self, session: NewSession) -> None:
        self._staged.sessions[session.id] = session

    async def revoke(self, session_id: bytes, at: datetime) -> None:
        if session_id in self._staged.sessions:
            self._staged.revoked_sessions.setdefault(session_id, at)

    async def revoke_all_of_user(self, user_id: UUID, at: datetime) -> int:
        live = [
            sid
            for sid, session in self._staged.sessions.items()
            if session.user_id == user_id and sid not in self._staged.revoked_sessions
        ]
        for sid in live:
            self._staged.revoked_sessions[sid] = at
        return len(live)


class FakeApiKeyWriter(ports.ApiKeyWriter):
    def __init__(self, staged: Store) -> None:
        self._staged = staged

    async def add(self, key: NewApiKey) -> ApiKey:
        self._staged.api_keys[key.key_hash] = key
        return _api_key(self._staged, key)

    async def revoke(self, key_id: UUID, at: datetime) -> bool:
        if not any(k.id == key_id for k in self._staged.api_keys.values()):
            return False
        self._staged.api_key_revoked.setdefault(key_id, at)
        return True

    async def record_uses(self, uses: Sequence[tuple[UUID, datetime]]) -> None:
        for key_id, at in uses:
            self._staged.api_key_used[key_id] = at


class FakeCustomerWriter(ports.CustomerWriter):
    def __init__(self, staged: Store, tenant_id: UUID, clock: FixedClock) -> None:
        self._staged = staged
        self._tenant_id = tenant_id
        self._clock = clock

    async def add(self, new: NewCustomer) -> Customer:
        self._refuse_taken_email(new.email, None)
        now = self._clock.now()
        customer = Customer(uuid4(), new.name, new.email, new.phone, now, now)
        self._staged.customers[(self._tenant_id, customer.id)] = customer
        return customer

    async def update(self, customer_id: UUID, changes: CustomerChanges) -> Customer | None:
        current = self._staged.customers.get((self._tenant_id, customer_id))
        if current is None:
            return None
        if changes.email is not None:
            self._refuse_taken_email(changes.email, customer_id)
        updated = replace(
            current,
            name=changes.name if changes.name is not None else current.name,
            email=changes.email if changes.email is not None else current.email,
            phone=changes.phone
            if changes.phone is not None or changes.clear_phone
            else current.phone,
            updated_at=self._clock.now(),
        )
        self._staged.customers[(self._tenant_id, customer_id)] = updated
        return updated

    async def delete(self, customer_id: UUID) -> bool:
        if customer_id in self._staged.customers_with_orders:
            raise Conflict("the customer has orders")
        return self._staged.customers.pop((self._tenant_id, customer_id), None) is not None

    async def exists(self, customer_id: UUID) -> bool:
        return (self._tenant_id, customer_id) in self._staged.customers

    def _refuse_taken_email(self, email: str, except_id: UUID | None) -> None:
        for (tenant_id, customer_id), customer in self._staged.customers.items():
            if (
                tenant_id == self._tenant_id
                and customer.email == email
                and customer_id != except_id
            ):
                raise Conflict("a customer with this email already exists")


class FakeProductWriter(ports.ProductWriter):
    """Stock changes only for products this unit of work has locked, and never below zero
    (the database's CHECK): a service that skips either fails its test loudly."""

    def __init__(self, staged: Store, tenant_id: UUID, clock: FixedClock) -> None:
        self._staged = staged
        self._tenant_id = tenant_id
        self._clock = clock
        self.locks: list[list[UUID]] = []  # the ids of each lock() call, as asked

    async def add(self, new: NewProduct) -> Product:
        if any(
            p.sku == new.sku for p in self._staged.of_tenant(self._staged.products, self._tenant_id)
        ):
            raise Conflict(f"a product with SKU {new.sku!r} already exists")
        now = self._clock.now()
        product = Product(
            uuid4(), new.sku, new.name, new.unit_price, new.stock, new.active, now, now
        )
        self._staged.products[(self._tenant_id, product.id)] = product
        return product

    async def update(self, product_id: UUID, changes: ProductChanges) -> Product | None:
        current = self._staged.products.get((self._tenant_id, product_id))
        if current is None:
            return None
        updated = replace(
            current,
            name=current.name if changes.name is None else changes.name,
            unit_price=current.unit_price if changes.unit_price is None else changes.unit_price,
            active=current.active if changes.active is None else changes.active,
            updated_at=self._clock.now(),
        )
        self._staged.products[(self._tenant_id, product_id)] = updated
        return updated

    async def lock(self, product_ids: Sequence[UUID]) -> dict[UUID, PricedProduct]:
        self.locks.append(list(product_ids))
        found = (self._staged.products.get((self._tenant_id, pid)) for pid in sorted(product_ids))
        return {p.id: PricedProduct(p.id, p.unit_price, p.stock, p.active) for p in found if p}

    async def apply(self, deltas: Sequence[tuple[UUID, int]]) -> None:
        locked = {pid for ids in self.locks for pid in ids}
        for product_id, delta in deltas:
            assert product_id in locked, f"stock of {product_id} changed without a lock"
            key = (self._tenant_id, product_id)
            current = self._staged.products[key]
            assert current.stock + delta >= 0, "CHECK (stock >= 0) violated"
            self._staged.products[key] = replace(
                current, stock=current.stock + delta, updated_at=self._clock.now()
            )


class FakeMovementWriter(ports.MovementWriter):
    def __init__(self, staged: Store, tenant_id: UUID) -> None:
        self._staged = staged
        self._tenant_id = tenant_id

    async def add(self, movements: Sequence[Movement]) -> None:
        self._staged.movements.extend((self._tenant_id, m) for m in movements)


class FakeOrderWriter(ports.OrderWriter):
    def __init__(self, staged: Store, tenant_id: UUID, clock: FixedClock) -> None:
        self._staged = staged
        self._tenant_id = tenant_id
        self._clock = clock

    async def add(self, plan: OrderPlan) -> Order:
        lines = tuple(
            OrderLine(ln.product_id, ln.quantity, ln.unit_price, ln.line_total) for ln in plan.lines
        )
        order = Order(
            id=uuid4(),
            customer_id=plan.customer_id,
            status="placed",
            total=plan.total,
            currency=self._staged.currency(self._tenant_id),
            note=plan.note,
            created_at=self._clock.now(),
            cancelled_at=None,
            lines=lines,
            invoice=None,
        )
        self._staged.orders[(self._tenant_id, order.id)] = order
        self._staged.customers_with_orders.add(plan.customer_id)
        return order

    async def lock(self, order_id: UUID) -> Order | None:
        order = self._staged.orders.get((self._tenant_id, order_id))
        return self._staged.with_invoice(self._tenant_id, order) if order else None

    async def mark_cancelled(self, order_id: UUID, at: datetime, reason: str | None = None) -> None:
        key = (self._tenant_id, order_id)
        self._staged.orders[key] = replace(
            self._staged.orders[key], status="cancelled", cancelled_at=at, cancel_reason=reason
        )


class FakeInvoiceWriter(ports.InvoiceWriter):
    """Numbers come from a per-tenant counter in the staged store, so a rolled-back unit of
    work gives its number back: INV-000001, INV-000002, ... with no gaps."""

    def __init__(self, staged: Store, tenant_id: UUID, clock: FixedClock) -> None:
        self._staged = staged
        self._tenant_id = tenant_id
        self._clock = clock

    async def issue(self, order: Order) -> Invoice:
        sequence = self._staged.invoice_counters.get(self._tenant_id, 0) + 1
        self._staged.invoice_counters[self._tenant_id] = sequence
        invoice = Invoice(
            id=uuid4(),
            order_id=order.id,
            number=invoice_number(sequence),
            amount=order.total,
            currency=order.currency,
            status="open",
            issued_at=self._clock.now(),
            paid_at=None,
            voided_at=None,
        )
        self._staged.invoices[(self._tenant_id, invoice.id)] = invoice
        return invoice

    async def lock(self, invoice_id: UUID) -> Invoice | None:
        return self._staged.invoices.get((self._tenant_id, invoice_id))

    async def set_status(self, invoice_id: UUID, status: InvoiceStatus, at: datetime) -> None:
        key = (self._tenant_id, invoice_id)
        current = self._staged.invoices[key]
        self._staged.invoices[key] = replace(
            current,
            status=status,
            paid_at=at if status == "paid" else current.paid_at,
            voided_at=at if status == "void" else current.voided_at,
        )

    async def mark_paid(self, invoice_id: UUID, at: datetime, payment: Payment) -> None:
        await self.set_status(invoice_id, "paid", at)
        key = (self._tenant_id, invoice_id)
        self._staged.invoices[key] = replace(
            self._staged.invoices[key],
            payment_method=payment.method,
            payment_reference=payment.reference,
        )


class FakeEventWriter(ports.EventWriter):
    """The EventWriter port: staged events reach `events_committed` only when the unit commits."""

    def __init__(self) -> None:
        self.staged: list[tuple[str, object]] = []

    def record(self, type: str, data: object) -> None:
        self.staged.append((type, data))


class FakeWebhookWriter(ports.WebhookWriter):
    """The WebhookWriter port over a dict of endpoints (their deliveries are the deliverer's,
    which has no fake: nothing is ever queued for a resend here)."""

    def __init__(self, endpoints: dict[UUID, WebhookEndpoint], clock: FixedClock) -> None:
        self._endpoints, self._clock = endpoints, clock

    async def add(self, endpoint: NewWebhookEndpoint) -> WebhookEndpoint:
        now = self._clock.now()
        added = WebhookEndpoint(
            endpoint.id, endpoint.url, endpoint.description, list(endpoint.event_types),
            True, now, now, None,
        )  # fmt: skip
        self._endpoints[endpoint.id] = added
        return added

    async def update(self, endpoint_id: UUID, changes: EndpointChanges) -> WebhookEndpoint | None:
        found = self._endpoints.get(endpoint_id)
        if found is None:
            return None
        types = changes.event_types
        updated = replace(
            found,
            url=changes.url if changes.url is not None else found.url,
            description=changes.description
            if changes.description is not None
            else found.description,
            event_types=list(types) if types is not None else found.event_types,
            enabled=changes.enabled if changes.enabled is not None else found.enabled,
            updated_at=self._clock.now(),
        )
        self._endpoints[endpoint_id] = updated
        return updated

    async def delete(self, endpoint_id: UUID) -> bool:
        return self._endpoints.pop(endpoint_id, None) is not None

    async def queue_resend(self, endpoint_id: UUID, delivery_id: UUID) -> WebhookDelivery | None:
        return None


# ---- the unit of work ------------------------------------------------------------------------


class FakeUnitOfWork(ports.UnitOfWork):
    def __init__(
        self,
        store: Store,
        tenant_id: UUID,
        clock: FixedClock,
        idempotency: IdempotencyClaim | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._staged: Store | None = None
        self.tenant_id = tenant_id
        self.idempotency = idempotency  # kept, not acted on: replaying answers is the edge's job
        self.options = options or {}  # any keyword the port may gain, recorded for tests
        self.commits = 0
        self.results: list[object] = []  # what each commit() was handed
        self.events_committed: list[tuple[str, object]] = []  # (type, data), in order
        self.exited = False

    async def __aenter__(self) -> FakeUnitOfWork:
        staged = self._staged = self._store.copy()
        tenant_id, clock = self.tenant_id, self._clock
        # Typed as the ports, as the real unit of work does: a test may stand one in.
        self.sessions: ports.SessionWriter = FakeSessionWriter(staged)
        self.api_keys: ports.ApiKeyWriter = FakeApiKeyWriter(staged)
        self.customers: ports.CustomerWriter = FakeCustomerWriter(staged, tenant_id, clock)
        self.products: ports.ProductWriter = FakeProductWriter(staged, tenant_id, clock)
        self.movements: ports.MovementWriter = FakeMovementWriter(staged, tenant_id)
        self.orders: ports.OrderWriter = FakeOrderWriter(staged, tenant_id, clock)
        self.invoices: ports.InvoiceWriter = FakeInvoiceWriter(staged, tenant_id, clock)
        self.events: FakeEventWriter = FakeEventWriter()  # its `staged` is read on commit
        self.webhooks: ports.WebhookWriter = FakeWebhookWriter(staged.webhooks, clock)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._staged = None  # uncommitted writes are dropped: the rollback
        self.exited = True

    async def commit(self, result: object = None) -> None:
        assert self._staged is not None, "commit() outside 'async with'"
        self._store.replace_with(self._staged)
        self.commits += 1
        self.results.append(result)
        self.events_committed.extend(self.events.staged)


class FakeUnitOfWorkFactory(ports.UnitOfWorkFactory):
    """The UnitOfWorkFactory port: remembers every unit of work it handed out. The idempotency
    claim and any keyword the port may gain are kept on the unit of work it hands out."""

    def __init__(
        self,
        store: Store,
        clock: FixedClock,
        unit_of_work: type[FakeUnitOfWork] = FakeUnitOfWork,
    ) -> None:
        self._store = store
        self._clock = clock
        # A subclass may stand in to act out a race the sequential fakes cannot interleave.
        self._unit_of_work = unit_of_work
        self.opened: list[FakeUnitOfWork] = []
        self.claims: list[IdempotencyClaim | None] = []  # what each was opened with

    def __call__(
        self, tenant_id: UUID, idempotency: IdempotencyClaim | None = None, **options: Any
    ) -> FakeUnitOfWork:
        uow = self._unit_of_work(self._store, tenant_id, self._clock, idempotency, options)
        self.opened.append(uow)
        self.claims.append(idempotency)
        return uow

    @property
    def commits(self) -> int:
        return sum(uow.commits for uow in self.opened)
