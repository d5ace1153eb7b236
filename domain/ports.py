"""The interfaces the services need: read repositories, write repositories, the unit of work.

Read ports have only query methods; write ports exist only on a UnitOfWork, so a reader of a
service sees at a glance which calls can change data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, TypeVar
from uuid import UUID

from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.dashboard import Dashboard
from domain.model.events import FeedQuery, FeedSlice
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
from domain.model.webhooks import (
    EndpointChanges,
    NewWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
)

T = TypeVar("T")
F = TypeVar("F", contravariant=True)

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

    def remembered(self, tenant_id: UUID, token_digest: bytes) -> Principal | None:
        """The token's principal if this reader can answer it without a round trip (and may
        be trusted to), else None: ask `principal_for_*` then."""
        ...


class Reader(Protocol[T, F]):
    """The read port of a resource: one item by id, or a keyset page of those `where` selects
    (a filter dataclass: the fields that are set narrow the list)."""

    async def get(self, tenant_id: UUID, item_id: UUID, /) -> T | None: ...

    async def list(self, tenant_id: UUID, page: PageRequest, where: F, /) -> Page[T]: ...


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    q: str | None = None  # name or email contains, ignoring case
    email: str | None = None  # exactly this email (stored lower case)


CustomerReader = Reader[Customer, CustomerFilter]


@dataclass(frozen=True, slots=True)
class ProductFilter:
    q: str | None = None  # SKU or name contains, ignoring case
    low_stock: int | None = None  # at most this much stock
    active: bool | None = None


ProductReader = Reader[Product, ProductFilter]


@dataclass(frozen=True, slots=True)
class OrderFilter:
    status: OrderStatus | None = None
    customer_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


OrderReader = Reader[Order, OrderFilter]


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    status: InvoiceStatus | None = None
    customer_id: UUID | None = None
    order_id: UUID | None = None
    since: datetime | None = None  # issued at or after
    until: datetime | None = None  # issued before


InvoiceReader = Reader[Invoice, InvoiceFilter]


class DashboardReader(Protocol):
    async def summary(self, tenant_id: UUID, low_stock_threshold: int) -> Dashboard: ...


class EventReader(Protocol):
    async def slice(self, tenant_id: UUID, query: FeedQuery) -> FeedSlice:
        """The events after `query.after` (or the oldest kept), in feed order, in ONE read."""
        ...


class WebhookReader(Protocol):
    async def list(self, tenant_id: UUID, page: PageRequest) -> Page[WebhookEndpoint]: ...

    async def get(self, tenant_id: UUID, endpoint_id: UUID) -> WebhookEndpoint | None: ...

    async def deliveries(
        self, tenant_id: UUID, endpoint_id: UUID, page: PageRequest
    ) -> Page[WebhookDelivery] | None:
        """None when the tenant has no such endpoint."""
        ...


class FeedWaker(Protocol):
    def mark(self, tenant_id: UUID) -> int:
        """Where the tenant's news stands; take it before reading the feed."""
        ...

    async def wait(self, tenant_id: UUID, mark: int, seconds: float) -> bool:
        """Return when the tenant's feed may have news since `mark`, or after `seconds`;
        False when waiting is over for good (the worker is stopping): answer now."""
        ...


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

    async def record_uses(self, uses: Sequence[tuple[UUID, datetime]]) -> None:
        """Set each key's last use, in one statement; a later time already stored stays."""
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


class WebhookWriter(Protocol):
    async def add(self, endpoint: NewWebhookEndpoint) -> WebhookEndpoint:
        """Starts after the newest event committed so far: it is sent what happens next."""
        ...

    async def update(
        self, endpoint_id: UUID, changes: EndpointChanges
    ) -> WebhookEndpoint | None: ...

    async def delete(self, endpoint_id: UUID) -> bool: ...

    async def queue_resend(self, endpoint_id: UUID, delivery_id: UUID) -> WebhookDelivery | None:
        """Queue the event of that delivery to be sent again; None when there is none."""
        ...


class EventWriter(Protocol):
    def record(self, type: str, data: object) -> None:
        """Say what happened: `data` is the resource as the API answers it. The event is
        stored by commit(), in the same transaction as the change, or not at all."""
        ...


class UnitOfWork(Protocol):
    """One transaction under one tenant; rolls back on exit unless commit() was awaited."""

    sessions: SessionWriter
    api_keys: ApiKeyWriter
    customers: CustomerWriter
    products: ProductWriter
    movements: MovementWriter
    orders: OrderWriter
    invoices: InvoiceWriter
    events: EventWriter
    webhooks: WebhookWriter

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


class KeyUseLog(Protocol):
    """Where authentication notes an API key's use: stored later, off the request's path."""

    def note(self, tenant_id: UUID, key_id: UUID, at: datetime) -> None:
        """Never awaits and never fails: a read must not wait on, or fail for, this write."""
        ...


class UrlGuard(Protocol):
    async def check(self, url: str) -> None:
        """Raise InvalidInput when the URL may not be called (loopback, private, ...)."""
        ...


class SecretSealer(Protocol):
    def seal(self, secret: str, context: str) -> bytes:
        """Encrypt a webhook secret, bound to `context` (tenant and endpoint)."""
        ...


class LoginThrottle(Protocol):
    """Failed logins counted per address, per (account, address) and per account, shared by
    every worker (issue 19)."""

    async def attempt(self, tenant_id: UUID, email: str, address: str) -> None:
        """Count an attempt as a failure up front, or raise TooManyLoginAttempts."""
        ...

    async def succeeded(self, tenant_id: UUID, email: str, address: str) -> None:
        """The password was right: the attempt was no failure, and the address is trusted."""
        ...
