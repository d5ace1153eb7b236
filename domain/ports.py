"""The interfaces the services need: read repositories, write repositories, the unit of work.

Read ports have only query methods; write ports exist only on a UnitOfWork, so a reader of a
service sees at a glance which calls can change data.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol
from uuid import UUID

from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.model.identity import NewApiKey, NewSession, Principal, Tenant, UserCredentials
from domain.model.paging import Page, PageRequest

# ---- reads (one round trip each, no transaction) -------------------------------------------


class TenantDirectory(Protocol):
    async def by_slug(self, slug: str) -> Tenant | None: ...


class IdentityReader(Protocol):
    async def principal_for_session(
        self, tenant_id: UUID, session_id: bytes
    ) -> Principal | None: ...

    async def principal_for_api_key(self, tenant_id: UUID, key_hash: bytes) -> Principal | None: ...

    async def credentials(self, tenant_id: UUID, email: str) -> UserCredentials | None: ...


class CustomerReader(Protocol):
    async def get(self, tenant_id: UUID, customer_id: UUID) -> Customer | None: ...

    async def list(self, tenant_id: UUID, page: PageRequest, q: str | None) -> Page[Customer]: ...


# ---- writes (only inside a UnitOfWork) -------------------------------------------------------


class SessionWriter(Protocol):
    async def add(self, session: NewSession) -> None: ...

    async def revoke(self, session_id: bytes, at: datetime) -> None: ...


class ApiKeyWriter(Protocol):
    async def add(self, key: NewApiKey) -> None: ...


class CustomerWriter(Protocol):
    async def add(self, customer: NewCustomer) -> Customer:
        """Raises Conflict when the email is taken in the tenant."""
        ...

    async def update(self, customer_id: UUID, changes: CustomerChanges) -> Customer | None: ...

    async def delete(self, customer_id: UUID) -> bool: ...


class UnitOfWork(Protocol):
    """One transaction under one tenant; rolls back on exit unless commit() was awaited."""

    sessions: SessionWriter
    api_keys: ApiKeyWriter
    customers: CustomerWriter

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[UUID], UnitOfWork]


# ---- other ports -----------------------------------------------------------------------------


class PasswordHasher(Protocol):
    async def verify(self, password_hash: str, password: str) -> bool: ...

    async def hash(self, password: str) -> str: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
