"""Finding the server to talk to in a host list, remembering it, and failing fast without one.

Every connection a pool, the replica poller or the auth listener opens goes through a
`ServerFinder`: it tries the server that answered last first, then the others in the order
given, each within DB_CONNECT_TIMEOUT, and checks the server's role in the connect round trip
itself (PostgreSQL 14+ reports `in_hot_standby` and `default_transaction_read_only` in the
startup answer, as libpq's target_session_attrs uses them; an older server or a pooler that
does not pass them on costs one query, at connect only).

When no server in the list fits, the breaker opens: connects fail at once with `NoServer`
(503 `database-unavailable`, Retry-After) instead of each request paying the connect timeout,
the pool's connections are closed (a statement waiting on a dead server, or in a pooler's
queue for one, fails now instead of at its timeout), and one background probe walks the list
every RETRY_EVERY until a server fits. A lost connection or a server that turned read-only
(`suspect`) starts one such walk without opening the breaker first: a single terminated
backend must not close everyone's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import aiopg
import psycopg2
import structlog

from infrastructure.db.errors import NoServer
from infrastructure.db.hosts import HostList, parse_hosts

log = structlog.get_logger(__name__)

RETRY_EVERY = 0.25  # seconds between the probe's walks while no server fits
_CONNECT_ERRORS = (psycopg2.Error, OSError, TimeoutError, RuntimeError)
# A server that refuses a connection because it is full is there, and the connections the pool
# already holds to it still work: that is no reason to close them and refuse everything.
_BUSY = ("too many clients", "remaining connection slots")
# aiopg on uvloop leaves a refused connect's poll handle registered (aio-libs/aiopg#909); a
# new socket that gets the same descriptor number fails to register ("the handler is
# closed"), in whichever finder opens it: a standby going away could then open the primary's
# breaker. Each failed attempt, once released, clears one stale handle, and several refused
# connects at once leave several, so a connect tries again this many times before it counts
# as failed (all within DB_CONNECT_TIMEOUT).
_STALE_HANDLE_RETRIES = 8
_ROLE_QUERY = "select pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'"


class ServerFinder:
    """Connections to the first server of a host list that has the wanted role."""

    def __init__(
        self,
        hosts: HostList,
        *,
        connect_timeout: float,
        target: str | None = None,
        **connect_kwargs: Any,
    ) -> None:
        self.hosts = hosts
        self.target = target or hosts.target
        self._timeout = connect_timeout
        self._kwargs = connect_kwargs
        self._refused: set[int] = set()  # servers whose last connect was refused
        self.current = 0  # the server tried first: the last one that fitted
        self.down_why: str | None = None  # while the breaker is open: why no server fits
        self._down_since = 0.0
        self._probe: asyncio.Task[None] | None = None
        self._checking: asyncio.Task[None] | None = None
        # Called when the breaker opens and when the server found changes: the pool closes
        # its connections, which are to a server that is gone or no longer the right one.
        self.on_lost: list[Callable[[], None]] = []

    @property
    def available(self) -> bool:
        return self.down_why is None

    @property
    def server(self) -> str:
        return self.hosts.names[self.current]

    async def connect(self) -> aiopg.Connection:
        if self.down_why is not None:
            raise NoServer(self.down_why)
        try:
            conn, index = await self._walk()
        except NoServer as exc:
            if not any(busy in exc.reason for busy in _BUSY):
                self._open_breaker(exc.reason)
            raise
        self._found(index)
        return conn

    def suspect(self, why: str) -> None:
        """A connection was lost (or met a read-only server): walk the list once, in the
        background, to learn whether the server is gone, moved, or only lost one session."""
        if self.down_why is not None or (self._checking and not self._checking.done()):
            return
        self._checking = asyncio.get_running_loop().create_task(self._check(why))

    def wrong_role(self) -> None:
        """A write reached a server that is read-only now (25006): every pooled connection is
        to it, so close them all; the next connect walks on to the server that fits."""
        self._lost()
        self.suspect("read_only")

    async def close(self) -> None:
        for task in (self._probe, self._checking):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # ---- walking the list ---------------------------------------------------------------

    async def _walk(self) -> tuple[aiopg.Connection, int]:
        count = len(self.hosts.dsns)
        order = [(self.current + step) % count for step in range(count)]
        if self.target == "prefer-standby":
            found = await self._first_fitting(order, "standby")
            if found is not None:
                return found
        failures: list[str] = []
        target = "any" if self.target == "prefer-standby" else self.target
        found = await self._first_fitting(order, target, failures)
        if found is None:
            raise NoServer("; ".join(failures))
        return found

    async def _first_fitting(
        self, order: list[int], target: str, failures: list[str] | None = None
    ) -> tuple[aiopg.Connection, int] | None:
        for index in order:
            why = "no answer"
            try:
                conn = await self._open(index)
            except _CONNECT_ERRORS as exc:
                why = _reason(exc)
            else:
                try:
                    why = await _misfit(conn, target)
                except _CONNECT_ERRORS as exc:
                    why = _reason(exc)
                except BaseException:  # cancelled (a deadline): the connection is no one's
                    conn.close()
                    raise
                if why == "":
                    return conn, index
                conn.close()
            if failures is not None:
                failures.append(f"{self.hosts.names[index]}: {why}")
        return None

    async def _open(self, index: int) -> aiopg.Connection:
        dsn = self.hosts.dsns[index]
        async with asyncio.timeout(self._timeout):
            if index in self._refused:
                await _still_refused(self.hosts.addresses[index])
            for _ in range(_STALE_HANDLE_RETRIES):
                try:
                    conn = await aiopg.connect(dsn, timeout=self._timeout, **self._kwargs)
                    break
                except RuntimeError as exc:
                    if "handler is closed" not in str(exc):
                        raise
                except psycopg2.OperationalError as exc:
                    if "refused" in str(exc):
                        self._refused.add(index)
                    raise
                # Out of the except block, the failed attempt is released: aiopg's half-built
                # connection closes its socket and drops the stale handle on that descriptor.
                # Retried inside the block, the new socket took the next descriptor number,
                # which another refused connect may have left stale as well.
            else:
                conn = await aiopg.connect(dsn, timeout=self._timeout, **self._kwargs)
        self._refused.discard(index)
        return conn

    # ---- the breaker ---------------------------------------------------------------------

    def _found(self, index: int) -> None:
        if index != self.current:
            log.warning(
                "database_server_changed",
                servers=self.hosts.name,
                was=self.hosts.names[self.current],
                now=self.hosts.names[index],
            )
            self.current = index
            self._lost()

    def _open_breaker(self, why: str) -> None:
        self.down_why = why
        if self._probe is not None and not self._probe.done():
            return
        self._down_since = time.monotonic()
        log.warning("database_unreachable", servers=self.hosts.name, target=self.target, why=why)
        self._lost()
        self._probe = asyncio.get_running_loop().create_task(self._recover())

    def _lost(self) -> None:
        for callback in self.on_lost:
            callback()

    async def _recover(self) -> None:
        while True:
            await asyncio.sleep(RETRY_EVERY)
            try:
                conn, index = await self._walk()
            except NoServer as exc:
                self.down_why = exc.reason
                continue
            conn.close()
            self._found(index)
            self.down_why = None
            log.warning(
                "database_reachable",
                server=self.server,
                down_s=round(time.monotonic() - self._down_since, 3),
            )
            return

    async def _check(self, why: str) -> None:
        try:
            conn, index = await self._walk()
        except NoServer as exc:
            if not any(busy in exc.reason for busy in _BUSY):
                self._open_breaker(exc.reason)
            return
        conn.close()
        log.info("database_server_checked", after=why, server=self.hosts.names[index])
        self._found(index)


# How every connection of the service is opened (the pools', the poller's, the listener's).
CONNECT_OPTIONS: dict[str, Any] = {
    "enable_json": False,
    "enable_hstore": False,  # would cost a round trip per new connection
    # aiopg's would register psycopg2's uuid handling on each connection, and that takes
    # precedence over infrastructure/db/types.py's memoized one.
    "enable_uuid": False,
    "echo": False,
}


def find_servers(
    dsn: str,
    connect_timeout: float,
    *,
    several_hosts_target: str | None = None,
    application_name: str = "sales-api",
    **options: Any,
) -> ServerFinder:
    """A finder for `dsn` (libpq's multi-host forms too). A list of several hosts that names
    no target_session_attrs asks for `several_hosts_target`: the service writes only through
    DATABASE_URL, so a walk that could stop at a standby would help no one."""
    hosts = parse_hosts(dsn)
    several = len(hosts.dsns) > 1 and hosts.target == "any"
    wanted = several_hosts_target if several else None
    return ServerFinder(
        hosts,
        connect_timeout=connect_timeout,
        target=wanted,
        application_name=application_name,
        **{**CONNECT_OPTIONS, **options},
    )


async def _still_refused(address: tuple[str, int] | None) -> None:
    """Raise ConnectionRefusedError if a server that refused last time still does, without
    libpq: each refused libpq connect leaves aiopg a stale poll handle (see `_open`), and
    while the probe retries every 0.25 s each one logged an "Unclosed connection" error."""
    if address is None:
        return  # a Unix socket: no stale handles there
    _, writer = await asyncio.open_connection(*address)
    writer.close()  # nothing sent: PostgreSQL 13+ does not even log it


async def _misfit(conn: aiopg.Connection, target: str) -> str:
    """Why the server does not have the role `target` asks for; "" when it does."""
    if target == "any":
        return ""
    standby_status = conn.raw.get_parameter_status("in_hot_standby")
    read_only_status = conn.raw.get_parameter_status("default_transaction_read_only")
    if standby_status is not None and read_only_status is not None:
        standby = standby_status == "on"
        read_only = standby or read_only_status == "on"
    else:  # before PostgreSQL 14, or a pooler that does not pass these on
        async with conn.cursor() as cur:
            await cur.execute(_ROLE_QUERY)
            row = await cur.fetchone()
        standby, read_only = bool(row[0]), bool(row[1]) or bool(row[0])
    if target == "primary" and standby:
        return "a standby"
    if target == "read-write" and read_only:
        return "a standby" if standby else "read-only"
    if target == "standby" and not standby:
        return "not a standby"
    if target == "read-only" and not read_only:
        return "not read-only"
    return ""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "connect timed out"
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
