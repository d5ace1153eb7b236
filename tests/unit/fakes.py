"""In-memory doubles of the ports in domain/ports.py, for service tests without a database.

A unit of work writes to a staged copy of the store, which replaces the store only on commit,
as a transaction would. Every fake records what it was asked, so tests can check calls as well
as state.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from uuid import UUID, uuid4

from domain.errors import Conflict
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.identity import NewApiKey, NewSession, Principal, UserCredentials
from domain.model.paging import Keyset, Page, PageRequest
from domain.ports import IdempotencyClaim


def fake_hash(password: str) -> str:
    """What FakePasswordHasher stores for a password; readable in a failing assertion."""
    return "fake-hash:" + password


class FixedClock:
    def __init__(self, at: datetime = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


class FakePasswordHasher:
    """Not a hash at all: verify() is a string comparison, and every call is recorded."""

    def __init__(self) -> None:
        self.verified: list[tuple[str, str]] = []

    async def hash(self, password: str) -> str:
        return fake_hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append((password_hash, password))
        return password_hash == fake_hash(password)


@dataclass
class Store:
    """Committed state, shared by the fake readers and the units of work."""

    users: dict[tuple[UUID, str], UserCredentials] = field(default_factory=dict)
    sessions: dict[bytes, NewSession] = field(default_factory=dict)
    revoked_sessions: dict[bytes, datetime] = field(default_factory=dict)
    api_keys: dict[bytes, NewApiKey] = field(default_factory=dict)
    customers: dict[tuple[UUID, UUID], Customer] = field(default_factory=dict)
    customers_with_orders: set[UUID] = field(default_factory=set)

    def copy(self) -> Store:
        return Store(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(self)})

    def replace_with(self, other: Store) -> None:
        # Copy, not alias: writes after commit must not leak into the store uncommitted.
        for f in fields(self):
            setattr(self, f.name, copy.copy(getattr(other, f.name)))


# ---- reads -----------------------------------------------------------------------------------


class FakeIdentityReader:
    def __init__(self, store: Store, clock: FixedClock) -> None:
        self._store = store
        self._clock = clock
        self.calls: list[tuple[str, UUID, object]] = []

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
        )

    async def principal_for_api_key(self, tenant_id: UUID, key_hash: bytes) -> Principal | None:
        self.calls.append(("api_key", tenant_id, key_hash))
        key = self._store.api_keys.get(key_hash)
        if key is None or key.tenant_id != tenant_id:
            return None
        return Principal(tenant_id, key.role, api_key_id=key.id)


class FakeCustomerReader:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, tenant_id: UUID, customer_id: UUID) -> Customer | None:
        return self._store.customers.get((tenant_id, customer_id))

    async def list(self, tenant_id: UUID, page: PageRequest, q: str | None) -> Page[Customer]:
        mine = [c for (t, _), c in self._store.customers.items() if t == tenant_id]
        if q:
            needle = q.lower()
            mine = [c for c in mine if needle in c.name.lower() or needle in c.email.lower()]
        mine.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        if page.after is not None:
            after = (page.after.created_at, page.after.id)
            mine = [c for c in mine if (c.created_at, c.id) < after]
        items = mine[: page.limit]
        more = len(mine) > page.limit
        return Page(items, Keyset(items[-1].created_at, items[-1].id).encode() if more else None)


# ---- writes ----------------------------------------------------------------------------------


class FakeSessionWriter:
    def __init__(self, staged: Store) -> None:
        self._staged = staged

    async def add(self, session: NewSession) -> None:
        self._staged.sessions[session.id] = session

    async def revoke(self, session_id: bytes, at: datetime) -> None:
        if session_id in self._staged.sessions:
            self._staged.revoked_sessions.setdefault(session_id, at)


class FakeApiKeyWriter:
    def __init__(self, staged: Store) -> None:
        self._staged = staged

    async def add(self, key: NewApiKey) -> None:
        self._staged.api_keys[key.key_hash] = key


class FakeCustomerWriter:
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


# ---- the unit of work ------------------------------------------------------------------------


class FakeUnitOfWork:
    def __init__(self, store: Store, tenant_id: UUID, clock: FixedClock) -> None:
        self._store = store
        self._clock = clock
        self._staged: Store | None = None
        self.tenant_id = tenant_id
        self.commits = 0
        self.results: list[object] = []  # what each commit() was handed
        self.exited = False

    async def __aenter__(self) -> FakeUnitOfWork:
        self._staged = self._store.copy()
        self.sessions = FakeSessionWriter(self._staged)
        self.api_keys = FakeApiKeyWriter(self._staged)
        self.customers = FakeCustomerWriter(self._staged, self.tenant_id, self._clock)
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


class FakeUnitOfWorkFactory:
    """The UnitOfWorkFactory port: remembers every unit of work it handed out."""

    def __init__(self, store: Store, clock: FixedClock) -> None:
        self._store = store
        self._clock = clock
        self.opened: list[FakeUnitOfWork] = []

    def __call__(
        self, tenant_id: UUID, idempotency: IdempotencyClaim | None = None
    ) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self._store, tenant_id, self._clock)
        self.opened.append(uow)
        return uow

    @property
    def commits(self) -> int:
        return sum(uow.commits for uow in self.opened)
