"""The interfaces the services need: read repositories, write repositories, the unit of work.

Read ports have only query methods; write ports exist only on a UnitOfWork, so a reader of a
service sees at a glance which calls can change data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol
from uuid import UUID

from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.dashboard import Dashboard
from domain.model.identity import (
    ApiKey,
    NewApiKey,
    NewSession,
    Principal,
    Tenant,
    UserCredentials,
)
from domain.model.orders import (
    Invoice,
    InvoiceStatus,
    Order,
    OrderPlan,
    OrderStatus,
    Payment,
    PricedProduct,
)
from domain.model.paging import Page, PageRequest
from domain.model.products import Movement, NewProduct, Product, ProductChanges

# ---- reads (one round trip each, no transaction) -------------------------------------------


class TenantDirectory(Protocol):
    def cached(self, slug: str) -> tuple[bool, Tenant | None]:
        """(True, the answer) when it is known without a round trip, else (False, None)."""
        ...

    def cached_id(self, tenant_id: UUID) -> tuple[bool, Tenant | None]: ...

    async def by_slug(self, slug: str) -> Tenant | None: ...

    async def by_id(self, tenant_id: UUID) -> Tenant | None: ...


class IdentityReader(Protocol):
    async def principal_for_session(
        self, tenant_id: UUID, session_id: bytes
    ) -> Principal | None: ...

    async def principal_for_api_key(self, tenant_id: UUID, key_hash: bytes) -> Principal | None: ...

    async def credentials(self, tenant_id: UUID, email: str) -> UserCredentials | None: ...

    async def api_keys(self, tenant_id: UUID, page: PageRequest) -> Page[ApiKey]: ...
    def forget(self, tenant_id: UUID, token_digest: bytes) -> None:
        """Drop whatever this reader remembers of a token (nothing, for one that does not
        remember): the worker that revoked it must refuse it at once, not when told."""
        ...


class CustomerReader(Protocol):
    async def get(self, tenant_id: UUID, customer_id: UUID) -> Customer | None: ...

    async def list(
        self, tenant_id: UUID, page: PageRequest, q: str | None, email: str | None = None
    ) -> Page[Customer]: ...


class ProductReader(Protocol):
    async def get(self, tenant_id: UUID, product_id: UUID) -> Product | None: ...

    async def list(
        self,
        tenant_id: UUID,
        page: PageRequest,
        q: str | None,
        low_stock: int | None,
        active: bool | None = None,
    ) -> Page[Product]: ...


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    customer_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


class OrderReader(Protocol):
    async def get(self, tenant_id: UUID, order_id: UUID) -> Order | None: ...

    async def list(self, tenant_id: UUID, page: PageRequest, where: OrderFilter) -> Page[Order]: ...


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    status: InvoiceStatus | None = None
    customer_id: UUID | None = None
    order_id: UUID | None = None
    since: datetime | None = None  # issued at or after
    until: datetime | None = None  # issued before


class InvoiceReader(Protocol):
    async def get(self, tenant_id: UUID, invoice_id: UUID) -> Invoice | None: ...

    async def list(
        self, tenant_id: UUID, page: PageRequest, where: InvoiceFilter
    ) -> Page[Invoice]: ...


class DashboardReader(Protocol):
    async def summary(self, tenant_id: UUID, low_stock_threshold: int) -> Dashboard: ...


# ---- writes (only inside a UnitOfWork) -------------------------------------------------------


class SessionWriter(Protocol):
    async def add(self, session: NewSession) -> None: ...

    async def revoke(self, session_id: bytes, at: datetime) -> None: ...

    async def revoke_all_of_user(self, user_id: UUID, at: datetime) -> int:
        """Revoke every live session of the user; how many there were."""
        ...


class ApiKeyWriter(Protocol):
    async def add(self, key: NewApiKey) -> ApiKey: ...

    async def revoke(self, key_id: UUID, at: datetime) -> bool:
        """False when the tenant has no such key; revoking a revoked key keeps its time."""
        ...

    async def touch(self, key_id: UUID, at: datetime) -> None:
        """Record that the key was used at `at`."""
        ...


class CustomerWriter(Protocol):
    async def add(self, customer: NewCustomer) -> Customer:
        """Raises Conflict when the email is taken in the tenant."""
        ...

    async def update(self, customer_id: UUID, changes: CustomerChanges) -> Customer | None: ...

    async def delete(self, customer_id: UUID) -> bool:
        """Raises Conflict when orders still refer to the customer."""
        ...

    async def exists(self, customer_id: UUID) -> bool: ...


class ProductWriter(Protocol):
    async def add(self, product: NewProduct) -> Product:
        """Raises Conflict when the SKU is taken in the tenant."""
        ...

    async def update(self, product_id: UUID, changes: ProductChanges) -> Product | None: ...

    async def lock(self, product_ids: Sequence[UUID]) -> dict[UUID, PricedProduct]:
        """Row-lock the products in id order (so concurrent commands queue, never deadlock)."""
        ...

    async def apply(self, deltas: Sequence[tuple[UUID, int]]) -> None:
        """Change stock of already-locked products by the given signed amounts."""
        ...


class MovementWriter(Protocol):
    async def add(self, movements: Sequence[Movement]) -> None: ...


class OrderWriter(Protocol):
    async def add(self, plan: OrderPlan) -> Order:
        """Writes the order and its lines; the currency is the tenant's."""
        ...

    async def lock(self, order_id: UUID) -> Order | None: ...

    async def mark_cancelled(
        self, order_id: UUID, at: datetime, reason: str | None = None
    ) -> None: ...


class InvoiceWriter(Protocol):
    async def issue(self, order: Order) -> Invoice:
        """Takes the tenant's next gapless number in this transaction."""
        ...

    async def lock(self, invoice_id: UUID) -> Invoice | None: ...

    async def set_status(self, invoice_id: UUID, status: InvoiceStatus, at: datetime) -> None: ...

    async def mark_paid(self, invoice_id: UUID, at: datetime, payment: Payment) -> None: ...


class UnitOfWork(Protocol):
    """One transaction under one tenant; rolls back on exit unless commit() was awaited."""

    sessions: SessionWriter
    api_keys: ApiKeyWriter
    customers: CustomerWriter
    products: ProductWriter
    movements: MovementWriter
    orders: OrderWriter
    invoices: InvoiceWriter

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self, result: object = None) -> None:
        """Commit. `result` is what the command produced: with an idempotency claim, the answer
        built from it is recorded in this same transaction, so effect and record are atomic."""
        ...


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """A command its caller may repeat under the same key and get the first answer again.

    Opaque to the services: they pass it from the caller to the unit of work they open, which
    records the answer (`status`, and the body the committed result encodes to) in the same
    transaction as the effect, and replays it for a repeat with the same `fingerprint`.
    """

    key: str
    fingerprint: bytes
    route: str
    status: int


class UnitOfWorkFactory(Protocol):
    def __call__(
        self, tenant_id: UUID, idempotency: IdempotencyClaim | None = None
    ) -> UnitOfWork: ...


# ---- other ports -----------------------------------------------------------------------------


class PasswordHasher(Protocol):
    async def verify(self, password_hash: str, password: str) -> bool: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class LoginThrottle(Protocol):
    """Failed logins counted per address, per (account, address) and per account, shared by
    every worker (issue 19)."""

    async def attempt(self, tenant_id: UUID, email: str, address: str) -> None:
        """Count an attempt as a failure up front, or raise TooManyLoginAttempts."""

    async def succeeded(self, tenant_id: UUID, email: str, address: str) -> None:
        """The password was right: the attempt was no failure, and the address is trusted."""
