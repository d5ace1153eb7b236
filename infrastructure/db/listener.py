"""LISTEN on one dedicated connection, outside the pool, and report what arrives and when
listening starts and stops.

The connection goes straight to PostgreSQL (AUTH_LISTEN_DATABASE_URL): behind PgBouncer in
transaction mode a LISTEN lands on a server connection that is someone else's a moment
later. Whether it really hears is checked, not assumed: after LISTEN, a probe notification
is sent the way the service's own writes go (`probe_dsn`, the pool's URL), and the listener
counts as up only once it has heard it. Through transaction-mode PgBouncer it never does, so
whatever depends on it stays off.

Other channels may share the connection (`Subscription`: the change feed's news, the
resource versions of infrastructure/versions.py): each is LISTENed with the first, may read
a snapshot on the connection once it hears (`on_listening`), and is told when listening
starts and stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiopg
import structlog

from infrastructure.db.finder import find_servers

log = structlog.get_logger(__name__)

_PROBE_WAIT = 1.0  # seconds to hear our own probe
_RETRY_FIRST, _RETRY_MAX = 0.1, 5.0  # reconnect backoff after a failure
_RETRY_DEAF = 60.0
# A server lost without a word (network partition) is noticed in ~11 s.
_KEEPALIVES: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}  # connected but deaf (transaction pooling): a configuration, not a blip


Fetch = Callable[[str], Awaitable[list[tuple[Any, ...]]]]


def _nothing() -> None:
    pass


@dataclass(frozen=True, slots=True)
class Subscription:
    """Another channel heard on the listener's connection."""

    channel: str
    on_notify: Callable[[str], None]
    on_up: Callable[[], None] = _nothing
    on_down: Callable[[], None] = _nothing
    # After LISTEN and the probe, before `on_up`: e.g. read what was committed before, with
    # the given `Fetch` (a query's rows, on the listener's connection).
    on_listening: Callable[[Fetch], Awaitable[None]] | None = None


class Deaf(Exception):
    """LISTEN succeeded, yet our own notification never arrived."""


class Listener:
    def __init__(
        self,
        dsn: str,
        channel: str,
        *,
        probe_dsn: str,
        on_notify: Callable[[str], None],
        on_up: Callable[[], None],
        on_down: Callable[[], None],
        connect_timeout: float = 5.0,
        application_name: str = "sales-api-listener",
        also: Sequence[Subscription] = (),
    ) -> None:
        # Both walk their host lists to the primary: notifications are sent there.
        self._servers = find_servers(
            dsn,
            connect_timeout,
            several_hosts_target="read-write",
            application_name=application_name,
            **_KEEPALIVES,
        )
        self._probe_servers = find_servers(
            probe_dsn,
            connect_timeout,
            several_hosts_target="read-write",
            application_name=application_name,
        )
        self._channel = channel
        self._on_notify = on_notify
        self._also = {sub.channel: sub for sub in also}
        self._on_up = on_up
        self._on_down = on_down
        self._task: asyncio.Task[None] | None = None
        self.up = False
        self.state = "starting"  # then listening, down (retrying) or deaf (see Deaf)
        self.outages = 0  # times it stopped listening after it had listened
        self._down_since: float | None = time.monotonic()
        self._down_total = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="listener")

    async def close(self) -> None:
        """Stop listening. Cancel until the task has ended: aiopg's connect and execute wait
        through asyncio.wait_for, which on Python 3.11 loses a cancellation that arrives as
        the awaited operation completes (bpo-42130); the task would then listen on."""
        task, self._task = self._task, None
        if task is None:
            return
        while not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=0.1)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await self._servers.close()
        await self._probe_servers.close()

    def seconds_down(self) -> float:
        ongoing = time.monotonic() - self._down_since if self._down_since is not None else 0.0
        return self._down_total + ongoing

    async def _run(self) -> None:
        delay = _RETRY_FIRST
        while True:
            try:
                async with self._listening() as notifies:
                    self._listened()
                    delay = _RETRY_FIRST
                    while True:
                        self._dispatch(await notifies.get())
            except Deaf:
                log.warning(
                    "listener_deaf",
                    channel=self._channel,
                    hint="LISTEN does not work through PgBouncer in transaction mode;"
                    " point AUTH_LISTEN_DATABASE_URL at PostgreSQL itself",
                )
                self._stopped("deaf")
                delay = _RETRY_DEAF
            except Exception as exc:  # any failure means not listening; retry
                log.warning("listener_down", channel=self._channel, error=type(exc).__name__)
                self._stopped("down")
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX)

    @contextlib.asynccontextmanager
    async def _listening(self) -> AsyncIterator[aiopg.utils.ClosableQueue]:
        conn = await self._servers.connect()
        try:
            async with conn.cursor() as cur:
                for channel in (self._channel, *self._also):
                    await cur.execute(f'listen "{channel}"')
            await self._hear_probe(conn)
            for sub in self._also.values():
                if sub.on_listening is not None:
                    await sub.on_listening(functools.partial(_fetch, conn))
            while not conn.notifies.empty():  # what arrived meanwhile, before anyone trusts it
                self._dispatch(await conn.notifies.get())
            yield conn.notifies
        finally:
            conn.close()

    async def _hear_probe(self, conn: aiopg.Connection) -> None:
        probe = f"probe:{secrets.token_hex(8)}"
        sender = await self._probe_servers.connect()
        try:
            async with sender.cursor() as cur:
                await cur.execute("select pg_notify(%s, %s)", (self._channel, probe))
        finally:
            sender.close()
        try:
            async with asyncio.timeout(_PROBE_WAIT):
                while (note := await conn.notifies.get()).payload != probe:
                    self._dispatch(note)
        except TimeoutError:
            raise Deaf() from None

    def _dispatch(self, note: Any) -> None:  # a psycopg2 Notify: channel, payload
        sub = self._also.get(note.channel)
        if sub is not None:
            sub.on_notify(note.payload)
        else:
            self._on_notify(note.payload)

    def _listened(self) -> None:
        self.up = True
        self.state = "listening"
        down = time.monotonic() - self._down_since if self._down_since is not None else 0.0
        self._down_total += down
        self._down_since = None
        self._on_up()
        for sub in self._also.values():
            sub.on_up()
        log.info("listener_up", channel=self._channel, was_down_s=round(down, 3))

    def _stopped(self, state: str) -> None:
        self.state = state
        if self.up:
            self.outages += 1
            self._down_since = time.monotonic()
        self.up = False
        self._on_down()
        for sub in self._also.values():
            sub.on_down()


async def _fetch(conn: aiopg.Connection, query: str) -> list[tuple[Any, ...]]:
    async with conn.cursor() as cur:
        await cur.execute(query)
        return list(await cur.fetchall())
