"""The UnitOfWork: one transaction under one tenant, opened only by commands.

`BEGIN` and the tenant setting go in one round trip; the transaction commits only on an
explicit `await uow.commit()`. Leaving without commit, on an exception or on cancellation, rolls
back; if the rollback itself cannot run, the connection is closed rather than returned dirty.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import TypeVar
from uuid import UUID

import psycopg2.errors
import structlog

from infrastructure import idempotency
from infrastructure.db.pool import Connection, Database
from infrastructure.repositories.customers import CustomerWriteRepository
from infrastructure.repositories.identity import ApiKeyWriteRepository, SessionWriteRepository
from infrastructure.repositories.invoices import InvoiceWriteRepository
from infrastructure.repositories.orders import OrderWriteRepository
from infrastructure.repositories.products import MovementWriteRepository, ProductWriteRepository

log = structlog.get_logger(__name__)
T = TypeVar("T")

# client_connection_check_interval: if a command is abandoned (request deadline, shutdown) the
# driver closes the socket, but a backend waiting on a lock would not notice until it gets the
# lock; with the check it gives up within a second and releases what it holds.
_BEGIN = (
    "begin; select set_config('app.tenant_id', %(tenant)s, true),"
    " set_config('statement_timeout', %(timeout)s, true),"
    " set_config('client_connection_check_interval', '1000', true)"
)


class PgUnitOfWork:
    def __init__(self, db: Database, tenant_id: UUID) -> None:
        self._db = db
        self._tenant_id = tenant_id
        self._stack = AsyncExitStack()
        self._conn: Connection | None = None
        self._committed = False

    async def __aenter__(self) -> PgUnitOfWork:
        conn = await self._stack.enter_async_context(self._db.connection("command"))
        try:
            await conn.execute(
                _BEGIN, {"tenant": str(self._tenant_id), "timeout": self._db.statement_timeout}
            )
        except BaseException:
            await self._stack.aclose()
            raise
        self._conn = conn
        t = self._tenant_id
        self.sessions = SessionWriteRepository(conn, t)
        self.api_keys = ApiKeyWriteRepository(conn, t)
        self.customers = CustomerWriteRepository(conn, t)
        self.products = ProductWriteRepository(conn, t)
        self.movements = MovementWriteRepository(conn, t)
        self.orders = OrderWriteRepository(conn, t)
        self.invoices = InvoiceWriteRepository(conn, t)
        self._idempotent = idempotency.current.get()
        if self._idempotent is not None:
            try:
                await idempotency.check(conn, t, self._idempotent)
            except BaseException:
                await self.__aexit__(*sys.exc_info())
                raise
        return self

    async def commit(self, result: object = None) -> None:
        assert self._conn is not None, "commit() outside 'async with'"
        if self._idempotent is not None:
            await idempotency.store(self._conn, self._tenant_id, self._idempotent, result)
        await self._conn.execute("commit")
        self._committed = True
        self._db.metrics.commits.inc()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed and self._conn is not None:
                await self._rollback(self._conn, cancelled=exc_type is asyncio.CancelledError)
        finally:
            await self._stack.aclose()

    async def _rollback(self, conn: Connection, *, cancelled: bool) -> None:
        self._db.metrics.rollbacks.inc()
        if conn.broken:
            return
        if cancelled:
            # Awaiting during cancellation is not reliable; closing ends the transaction
            # server-side just as surely, and the pool drops the closed connection.
            conn.raw.close()
            return
        try:
            await conn.execute("rollback")
        except BaseException:
            conn.raw.close()
            raise


async def run_command(action: Callable[[], Awaitable[T]], db: Database, attempts: int = 4) -> T:
    """Retry a whole command on serialization failure or deadlock, never on anything else."""
    for attempt in range(1, attempts + 1):
        try:
            return await action()
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected) as exc:
            if attempt == attempts:
                raise
            sqlstate = exc.pgcode or (
                "40P01" if isinstance(exc, psycopg2.errors.DeadlockDetected) else "40001"
            )
            db.metrics.retries.labels(sqlstate).inc()
            delay = random.uniform(0, 0.01 * 2**attempt)  # jitter spreads the retries apart
            log.info(
                "command_retry", sqlstate=exc.pgcode, attempt=attempt, delay_ms=round(delay * 1000)
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
