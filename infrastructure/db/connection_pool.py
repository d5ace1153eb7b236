"""A small pool of aiopg connections, with nothing on the hot path but a deque.

aiopg's own Pool guards every checkout with an asyncio.Condition and wakes waiters through a
task it creates on every release. Under load each checkout then queues for that lock and
costs extra event-loop turns: under the benchmark's load requests waited for the pool while
connections sat idle (docs/performance.md has the figures). Here a free connection is handed over synchronously, a release
goes straight to the longest waiter's future, and the only awaits are the connect itself and
waiting for a connection to come back. Bounding the number of waiters and the acquire timeout
stays with `Database`, which owns the policy and the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiopg

if TYPE_CHECKING:
    from infrastructure.db.finder import ServerFinder

Connect = Callable[[], Awaitable[aiopg.Connection]]


class PoolClosed(RuntimeError):
    """The pool is shutting down: no more connections are handed out."""


class _Slot:
    """Handed to a waiter instead of a connection: a slot freed up, open a connection in it."""


_SLOT = _Slot()


class ConnectionPool:
    """At most `maxsize` aiopg connections, opened lazily, reused last-in first-out.

    LIFO keeps the few connections a light load needs hot (in the CPU caches of their
    backends) and lets the rest idle. A connection that comes back closed or inside a
    transaction is discarded, and its slot passes to a waiter, which opens a fresh one.
    """

    def __init__(
        self, dsn: str, maxsize: int, *, connect: Connect | None = None, **connect_kwargs: Any
    ) -> None:
        """`connect` opens a connection (infrastructure/db/finder.py walks a host list);
        without it, aiopg.connect(dsn, **connect_kwargs)."""
        self._dsn = dsn
        self._connect = connect or self._connect_to_dsn
        self.finder: ServerFinder | None = None  # set by open_pool: who `connect` asks
        self._maxsize = maxsize
        self._connect_kwargs = connect_kwargs
        self._free: deque[aiopg.Connection] = deque()
        self._waiters: deque[asyncio.Future[aiopg.Connection | _Slot]] = deque()
        # When each waiter began to wait, in arrival order (a dict keeps insertion order), for
        # the oldest waiter's age; touched only by acquires that have to wait.
        self._waiting_since: dict[asyncio.Future[aiopg.Connection | _Slot], float] = {}
        self._all: set[aiopg.Connection] = set()
        self._opening = 0
        self._closed = False

    @property
    def size(self) -> int:
        """Connections open or being opened."""
        return len(self._all) + self._opening

    @property
    def freesize(self) -> int:
        return len(self._free)

    @property
    def waiters(self) -> int:
        """Acquires waiting for a connection."""
        return len(self._waiters)

    def oldest_wait(self) -> float:
        """Seconds the longest-waiting acquire has waited; 0 when none waits."""
        for since in self._waiting_since.values():
            return time.monotonic() - since
        return 0.0

    def acquire_nowait(self) -> aiopg.Connection | None:
        """An idle connection, or None; never waits, never connects."""
        while self._free and not self._closed:
            conn = self._free.pop()
            if not conn.closed:
                return conn
            self._all.discard(conn)  # died while idle (e.g. the server restarted)
            conn.close()  # aiopg's close also unregisters its socket reader
        return None

    async def acquire(self) -> aiopg.Connection:
        if self._closed:
            raise PoolClosed("the connection pool is closed")
        conn = self.acquire_nowait()
        if conn is not None:
            return conn
        if self.size < self._maxsize:
            self._opening += 1
            return await self._open()
        got = await self._wait()
        return await self._open() if got is _SLOT else got  # type: ignore[return-value]

    def release(self, conn: aiopg.Connection) -> None:
        """Take a connection back; one that is closed or mid-transaction is dropped."""
        if conn not in self._all:
            return  # already dropped (closed by terminate() while checked out)
        if self._closed or conn.closed or conn.raw.get_transaction_status() != 0:
            self._drop(conn)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._free.append(conn)

    def reset(self) -> None:
        """Close every connection now, checked out or not, and go on serving with new ones.

        For a server that stopped answering (a replica the health poller lost): a statement
        waiting on one of these fails at once with "connection closed" instead of waiting out
        its timeout, and its caller can try elsewhere."""
        lost = list(self._all)
        self._all.clear()
        self._free.clear()
        for conn in lost:
            conn.close()
            self._pass_slot()

    def terminate(self) -> None:
        """Close every connection now, checked out or not; open transactions roll back."""
        self._closed = True
        for conn in list(self._all):
            conn.close()
        self._all.clear()
        self._free.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("the connection pool is closed"))

    async def _open(self) -> aiopg.Connection:
        """Open a connection in a slot the caller has already reserved (counted in _opening)."""
        try:
            conn = await self._connect()
        except BaseException:
            self._opening -= 1
            self._pass_slot()
            raise
        self._opening -= 1
        if self._closed:
            conn.close()
            raise PoolClosed("the connection pool is closed")
        self._all.add(conn)
        return conn

    async def _connect_to_dsn(self) -> aiopg.Connection:
        return await aiopg.connect(self._dsn, **self._connect_kwargs)

    async def _wait(self) -> aiopg.Connection | _Slot:
        waiter: asyncio.Future[aiopg.Connection | _Slot] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiters.append(waiter)
        self._waiting_since[waiter] = time.monotonic()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Cancelled (an acquire timeout) in the same turn as it was handed something:
                # give it back, or the connection or slot would be lost for good.
                got = waiter.result()
                if got is _SLOT:
                    self._opening -= 1
                    self._pass_slot()
                else:
                    self.release(got)  # type: ignore[arg-type]
            else:
                waiter.cancel()
                # O(n), only when an acquire gives up; a release() in the same turn may
                # already have skipped it off the deque.
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise
        finally:
            del self._waiting_since[waiter]

    def _drop(self, conn: aiopg.Connection) -> None:
        self._all.discard(conn)
        # Even when psycopg2 already reports it closed (the server ended the session): aiopg's
        # close() is what unregisters the socket's reader, and a stale reader on a reused
        # file descriptor number would swallow the next connection's events.
        conn.close()
        self._pass_slot()

    def _pass_slot(self) -> None:
        """A slot is free: the longest waiter gets to open a connection in it."""
        if self._closed or self.size >= self._maxsize:
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._opening += 1  # reserved now, so no newcomer can take it meanwhile
                waiter.set_result(_SLOT)
                return
