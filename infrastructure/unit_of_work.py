"""The UnitOfWork: one transaction under one tenant, opened only by commands.

`BEGIN` and the tenant setting go in one round trip; the transaction commits only on an
explicit `await uow.commit()`. Leaving without commit, on an exception or on cancellation, rolls
back; if the rollback itself cannot run, the connection is closed rather than returned dirty.
The events the command recorded (`uow.events`) are written just before COMMIT, in the same
transaction (infrastructure/repositories/events.py). A command the caller marked idempotent brings its claim along (`idempotency`): the record of
its answer is checked right after BEGIN and written right before COMMIT, in the same
transaction as the effect (infrastructure/idempotency.py).

With read replicas, `commit()` also records the commit position for the request's
Consistency-Token (infrastructure/db/replicas/consistency.py), in the same round trip as COMMIT.
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

import structlog

from domain.ports import (
    ApiKeyWriter,
    CustomerWriter,
    EventWriter,
    IdempotencyClaim,
    InvoiceWriter,
    MovementWriter,
    OrderWriter,
    ProductWriter,
    SessionWriter,
    WebhookWriter,
)
from infrastructure import idempotency
from infrastructure.db.database import Connection, Database
from infrastructure.db.errors import (
    CommitOutcomeUnknown,
    ConnectionLost,
    DatabaseUnavailable,
    QueryTimeout,
    ServerSilent,
    TransientConflict,
)
from infrastructure.db.replicas.consistency import parse_lsn, record_commit
from infrastructure.db.tenancy import BEGIN_PRELUDE
from infrastructure.db.writes import TenantWrites
from infrastructure.repositories.customers import CustomerWriteRepository
from infrastructure.repositories.events import EventOutbox
from infrastructure.repositories.identity import ApiKeyWriteRepository, SessionWriteRepository
from infrastructure.repositories.invoices import InvoiceWriteRepository
from infrastructure.repositories.orders import OrderWriteRepository
from infrastructure.repositories.products import MovementWriteRepository, ProductWriteRepository
from infrastructure.repositories.webhooks import WebhookWriteRepository

log = structlog.get_logger(__name__)
T = TypeVar("T")

# One simple-protocol query: COMMIT ends the transaction (the server commits, and with
# synchronous_commit flushes, before it runs the next statement), then the SELECT runs in an
# implicit transaction of its own. The position it reads is at or past the end of this
# transaction's commit record, so a replica that has replayed that far shows every row the
# command wrote. Read inside the transaction, before COMMIT, it would precede the commit
# record: a replica at that position would not yet show the command's writes. If COMMIT
# fails, the SELECT never runs, and the command fails exactly as with a plain COMMIT.
_COMMIT_AND_POSITION = "commit; select pg_current_wal_insert_lsn()::text"

# The resource versions (migration 0010): the triggers only note which kinds the command's
# writes touched, and the commit message advances them, so a version row is locked from the
# commit message on, not from the command's first write (docs/architecture.md, "Versions").
_BEGIN = BEGIN_PRELUDE + ", set_config('app.versions_at_commit', 'on', true)"
_ADVANCE_VERSIONS = "select resource_versions_commit()"


class PgUnitOfWork:
    def __init__(
        self,
        db: Database,
        tenant_id: UUID,
        idempotency: IdempotencyClaim | None = None,
        *,
        capture_position: bool = False,
    ) -> None:
        self._db = db
        self._capture_position = capture_position
        self._tenant_id = tenant_id
        self._idempotency = idempotency
        self._stack = AsyncExitStack()
        self._conn: Connection | None = None
        self._writes: TenantWrites | None = None
        self._committed = False
        self._outbox = EventOutbox(db.metrics.event_written)

    async def __aenter__(self) -> PgUnitOfWork:
        conn = await self._stack.enter_async_context(self._db.connection("command"))
        try:
            await conn.execute(
                _BEGIN,
                {"tenant_id": self._tenant_id, "_statement_timeout": self._db.statement_timeout},
            )
        except BaseException:
            await self._stack.aclose()
            raise
        self._conn = conn
        # The write repositories, all on this transaction's connection (typed as the ports, which
        # is what the UnitOfWork protocol promises).
        writes = self._writes = TenantWrites(conn, self._tenant_id)
        self.sessions: SessionWriter = SessionWriteRepository(writes)
        self.api_keys: ApiKeyWriter = ApiKeyWriteRepository(writes)
        self.customers: CustomerWriter = CustomerWriteRepository(writes)
        self.products: ProductWriter = ProductWriteRepository(writes)
        self.movements: MovementWriter = MovementWriteRepository(writes)
        self.orders: OrderWriter = OrderWriteRepository(writes)
        self.invoices: InvoiceWriter = InvoiceWriteRepository(writes)
        self.events: EventWriter = self._outbox
        self.webhooks: WebhookWriter = WebhookWriteRepository(writes)
        if self._idempotency is not None:
            try:
                await idempotency.check(writes, self._idempotency)
            except BaseException:
                await self.__aexit__(*sys.exc_info())
                raise
        return self

    @property
    def writes(self) -> TenantWrites:
        """The transaction's tenant-bound connection, for infrastructure's own jobs (the
        webhook deliverer's claims and records), which have no domain port."""
        assert self._writes is not None, "writes outside 'async with'"
        return self._writes

    async def commit(self, result: object = None) -> None:
        assert self._conn is not None and self._writes is not None, "commit() outside 'async with'"
        if self._idempotency is not None:
            await idempotency.store(self._writes, self._idempotency, result)
        ending = _COMMIT_AND_POSITION if self._capture_position else "commit"
        params: dict[str, object] = {}
        if (events := self._outbox.flush()) is not None:
            # The events go in the COMMIT's own message: last of the command's writes, so the
            # feed counter's lock (infrastructure/repositories/events.py) lasts no round trip.
            # If storing them fails, the rest of the message is skipped and nothing commits.
            text, params = events
            ending = f"{text}; {ending}"
            params["tenant_id"] = self._tenant_id
        # The versions before the events: a version row someone else holds is waited for
        # before this command takes the tenant's feed counter, which every other command of
        # the tenant needs.
        ending = f"{_ADVANCE_VERSIONS}; {ending}"
        try:
            rows = await self._conn.execute(ending, params or None)
        except QueryTimeout as exc:
            if isinstance(exc, ServerSilent):
                raise CommitOutcomeUnknown() from exc
            # statement_timeout cancelled the message before its COMMIT ran (a lock wait):
            # the transaction rolled back, so the outcome is known.
            raise
        except DatabaseUnavailable as exc:
            # COMMIT was sent and no answer came: the server may have committed before it
            # went away. Not retried here; the client retries with its Idempotency-Key.
            raise CommitOutcomeUnknown() from exc
        self._committed = True
        if self._capture_position:
            record_commit(parse_lsn(rows[0][0]))
        self._db.metrics.commits.inc()
        self._outbox.committed()

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
            conn.discard()
            return
        try:
            await conn.execute("rollback")
        except BaseException:
            conn.discard()
            raise


async def run_command(
    action: Callable[[], Awaitable[T]], db: Database, attempts: int = 4
) -> T | idempotency.Replayed:
    """The command's result, or the stored first answer of its Idempotency-Key (`Replayed`:
    the command stopped right after BEGIN and changed nothing). Retries the whole command on
    serialization failure or deadlock, and once when its connection was lost before COMMIT
    (a failover: nothing of it committed, and the retry connects to the server that is
    primary now); never on anything else."""
    attempt, lost_once = 1, False
    while True:
        try:
            return await action()
        except idempotency.ReplayFound as found:
            return found.answer
        except ConnectionLost as exc:
            if lost_once:
                raise
            lost_once = True
            log.info("command_retry", reason=type(exc).__name__)
            # One turn of the loop lets the driver mark the pool's other dead connections.
            await asyncio.sleep(0)
        except TransientConflict as exc:
            if attempt == attempts:
                raise
            db.metrics.retries.labels(exc.sqlstate).inc()
            delay = random.uniform(0, 0.01 * 2**attempt)  # jitter spreads the retries apart
            log.info(
                "command_retry",
                sqlstate=exc.sqlstate,
                attempt=attempt,
                delay_ms=round(delay * 1000),
            )
            await asyncio.sleep(delay)
            attempt += 1
