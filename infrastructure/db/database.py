"""The database as the rest of the service sees it: bounded, accounted checkouts.

Every checkout goes through `Database.connection(kind)`, which enforces the acquire timeout and
the bound on waiters, and accounts wait and hold time per request (stats) and per process
(metrics). Every statement goes through `Connection.execute`, which counts the round trip and
turns driver errors into the service's own (infrastructure/db/errors.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import aiopg
import psycopg2
import structlog

from infrastructure.db import errors
from infrastructure.db.connection_pool import ConnectionPool
from infrastructure.db.errors import (
    ConnectionLost,
    DatabaseUnavailable,
    PoolSaturated,
    PoolTimeout,
    ReadOnlyServer,
    ServerSilent,
)
from infrastructure.db.finder import find_servers
from infrastructure.db.metrics import DbMetrics
from infrastructure.db.sql import Sql
from infrastructure.db.statement import run_statement
from infrastructure.db.stats import current_stats
from infrastructure.db.types import register_uuid
from infrastructure.tracing import span

log = structlog.get_logger(__name__)


class Connection:
    """A checked-out connection: execute statements, nothing else."""

    __slots__ = ("_db", "_kind", "raw")

    def __init__(self, db: Database, raw: aiopg.Connection, kind: str) -> None:
        self._db = db
        self._kind = kind
        self.raw = raw

    async def execute(
        self, stmt: Sql | str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        """Run one simple-protocol query (possibly several statements) and return the last rows."""
        text = stmt.text if isinstance(stmt, Sql) else stmt
        self._db.count_round_trip(self._kind)
        try:
            # The text, never the values: they stay in `params` until the driver binds them.
            with span("db.statement", {"db.system": "postgresql", "db.statement": text}):
                return await run_statement(self.raw, text, params, self._db.op_timeout)
        except psycopg2.Error as exc:
            raise self._db.translate(exc, self._kind) from exc
        except TimeoutError:
            # Only the driver's timer raises it in here (a request deadline arrives as
            # CancelledError): the server went silent, and the connection is closed. Like a
            # statement timeout, it is not worth retrying inside the request.
            log.warning("db_unavailable", error="operation timed out")
            raise ServerSilent() from None

    @property
    def broken(self) -> bool:
        return bool(self.raw.closed)

    def discard(self) -> None:
        """Close the session now (its transaction rolls back server-side); the pool drops it."""
        self.raw.close()


class Database:
    def __init__(
        self,
        pool: ConnectionPool,
        metrics: DbMetrics,
        *,
        acquire_timeout: float,
        max_waiters: int,
        statement_timeout_ms: int,
    ) -> None:
        self.pool = pool
        self.finder = pool.finder
        self.metrics = metrics
        self.acquire_timeout = acquire_timeout
        self.max_waiters = max_waiters
        self.statement_timeout = f"{statement_timeout_ms}ms"
        # The driver's own bound on one statement, for a server that stops answering at all.
        self.op_timeout = statement_timeout_ms / 1000 + 5
        self.waiting = 0
        self.in_use = 0
        metrics.watch(
            size=lambda: pool.size,
            in_use=lambda: self.in_use,
            available=lambda: pool.freesize,
            waiting=lambda: self.waiting,
            oldest_waiter=pool.oldest_wait,
        )

    def connection(self, kind: str) -> _Checkout:
        """`async with db.connection(kind) as conn:` one checkout, accounted (a class, not an
        @asynccontextmanager: this runs for every statement a request makes)."""
        return _Checkout(self, kind)

    def _returned(self, raw: aiopg.Connection, kind: str, held_from: float) -> None:
        self.pool.release(raw)  # drops it if it is closed or left inside a transaction
        self.in_use -= 1
        held = time.perf_counter() - held_from
        self.metrics.observe_hold(kind, held)
        stats = current_stats.get()
        if stats is not None:
            stats.hold_s += held

    async def _acquire(self) -> aiopg.Connection:
        idle = self.pool.acquire_nowait()
        if idle is not None:  # the common case: no timer, no wait to account
            self.metrics.acquire_wait.observe(0.0)
            return idle
        if self.waiting >= self.max_waiters and self.pool.freesize == 0:
            self.metrics.pool_timeouts.inc()
            raise PoolSaturated()
        started = time.perf_counter()
        self.waiting += 1
        try:
            async with asyncio.timeout(self.acquire_timeout):
                return await self.pool.acquire()
        except TimeoutError:
            self.metrics.pool_timeouts.inc()
            raise PoolTimeout() from None
        except (psycopg2.Error, OSError) as exc:
            raise self.translate(exc) from exc
        except RuntimeError as exc:
            # "No connection" also comes as RuntimeError: PoolClosed at shutdown, and from
            # aiopg on uvloop after a failed connection attempt, whose poll handle
            # aiopg leaves behind, so the next attempt that reuses that socket number fails
            # (aio-libs/aiopg#909). Both are the database being unavailable, not a bug in the
            # request; the next attempt opens a fresh connection.
            log.warning("db_unavailable", error=type(exc).__name__, detail=str(exc))
            raise DatabaseUnavailable() from exc
        finally:
            self.waiting -= 1
            waited = time.perf_counter() - started
            self.metrics.acquire_wait.observe(waited)
            stats = current_stats.get()
            if stats is not None:
                stats.wait_s += waited

    def count_round_trip(self, kind: str) -> None:
        self.metrics.count_round_trip(kind)
        stats = current_stats.get()
        if stats is not None:
            stats.round_trips += 1

    def translate(self, exc: BaseException, kind: str = "command") -> BaseException:
        """The service's error for a driver error, counted by SQLSTATE class."""
        code = getattr(exc, "pgcode", None)
        if code:
            self.metrics.count_error(code[:2])
        translated = errors.translate(exc)
        if isinstance(translated, ReadOnlyServer) and kind != "command":
            # Reads run read-only on purpose (db/tenancy.py): a write in one is our bug, not
            # a server that turned standby.
            return errors.DatabaseError(code, str(exc).strip())
        if type(translated) in (DatabaseUnavailable, ConnectionLost):  # timeouts say enough
            log.warning("db_unavailable", error=type(exc).__name__, sqlstate=code)
        if self.finder is not None and isinstance(translated, ConnectionLost):
            # Is the server gone, or did it turn standby? One walk of the list tells.
            if isinstance(translated, ReadOnlyServer):
                self.finder.wrong_role()
            else:
                self.finder.suspect(code or "connection_lost")
        return translated

    @property
    def available(self) -> bool:
        """False while no server of the host list fits (the breaker is open)."""
        return self.finder is None or self.finder.available

    @property
    def unavailable_because(self) -> str | None:
        return None if self.finder is None else self.finder.down_why

    async def ping(self, within: float) -> bool:
        try:
            async with asyncio.timeout(within), self.connection("health") as conn:
                await conn.execute("select 1")
            return True
        except (DatabaseUnavailable, errors.DatabaseError, TimeoutError):
            return False

    async def close(self) -> None:
        # At shutdown the server has already let in-flight requests finish and cancelled the
        # rest, without waiting for them to unwind; waiting for their connections to come
        # back could hang. terminate() closes connections still checked out too; their open
        # transactions roll back server-side.
        self.pool.terminate()  # synchronous: nothing left to wait for
        if self.finder is not None:
            await self.finder.close()


def open_pool(
    dsn: str, maxsize: int, connect_timeout: float, *, primary: bool = True
) -> ConnectionPool:
    """Build the pool without connecting, so the service starts even when the database is down.

    `connect_timeout` bounds opening one connection to one server (DB_CONNECT_TIMEOUT);
    statements are bounded by statement_timeout and by `Database.op_timeout`. The finder
    walks the host list and closes the pool's connections when the server is lost.
    """
    register_uuid()  # process-wide, so per-connection registration is switched off below
    finder = find_servers(
        dsn, connect_timeout, several_hosts_target="read-write" if primary else None
    )
    pool = ConnectionPool(dsn, maxsize, connect=finder.connect)
    pool.finder = finder
    finder.on_lost.append(pool.reset)
    return pool


class _Checkout:
    __slots__ = ("_db", "_held_from", "_kind", "_raw")

    def __init__(self, db: Database, kind: str) -> None:
        self._db = db
        self._kind = kind

    async def __aenter__(self) -> Connection:
        with span("db.pool.acquire", {"sales.checkout": self._kind}):
            self._raw = await self._db._acquire()
        self._held_from = time.perf_counter()
        self._db.in_use += 1
        return Connection(self._db, self._raw, self._kind)

    async def __aexit__(self, *_exc: object) -> None:
        self._db._returned(self._raw, self._kind, self._held_from)
