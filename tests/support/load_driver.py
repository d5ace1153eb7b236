"""A bounded read + write load against a running service, every answer timed.

Used by the failover and reload tests and by `scripts/failover-drill`: a few writer clients
place orders (each with its own Idempotency-Key and a note to find it by), a few reader
clients list products and orders, each on its own keep-alive connection, until stopped or
until `max_requests`. Every answer keeps when it was sent and how long it took, so a test can
say "every 503 came within 1 s" and the drill can print a timeline.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

API = "/api/sales"


@dataclass
class Timed:
    """One answer: status (None: no answer at all), problem type, when and how long."""

    kind: str  # "write" or "read"
    sent: float  # time.monotonic() when sent
    took: float
    status: int | None
    problem: str | None = None
    retry_after: str | None = None
    error: str | None = None
    # Sent on a connection opened for it (the first, or after a `Connection: close` or a
    # failure), not on one kept alive from an earlier answer.
    fresh: bool = True

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Write:
    note: str = field(default_factory=lambda: f"load-{uuid.uuid4().hex}")
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    acknowledged: bool = False


class LoadDriver:
    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        customer_id: str,
        product_id: str,
        *,
        writers: int = 2,
        readers: int = 2,
        max_requests: int = 5000,
        request_timeout: float = 10.0,
        pause: float = 0.01,
    ) -> None:
        self._base = base_url
        self._headers = headers
        self._customer = customer_id
        self._product = product_id
        self._counts = (writers, readers)
        self._max = max_requests
        self._timeout = request_timeout
        self._pause = pause
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.answers: list[Timed] = []
        self.writes: list[Write] = []
        self._kept_alive: set[int] = set()  # sessions whose connection stays open

    async def __aenter__(self) -> LoadDriver:
        writers, readers = self._counts
        self._tasks = [asyncio.create_task(self._client(self._write)) for _ in range(writers)]
        self._tasks += [asyncio.create_task(self._client(self._read)) for _ in range(readers)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def since(self, moment: float) -> list[Timed]:
        return [a for a in self.answers if a.sent >= moment]

    async def until(self, check: Any, within: float) -> bool:
        """Wait until `check(self)` holds; False after `within` seconds."""
        deadline = time.monotonic() + within
        while not check(self):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def _client(self, step: Any) -> None:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        connector = aiohttp.TCPConnector(limit=1)  # one keep-alive connection per client
        async with aiohttp.ClientSession(self._base, timeout=timeout, connector=connector) as s:
            # aiohttp silently sends a GET again when the connection drops under it: count
            # every drop instead, as wrk would.
            s._retry_connection = False
            while not self._stop.is_set() and len(self.answers) < self._max:
                await step(s)
                await asyncio.sleep(self._pause)

    async def _write(self, session: aiohttp.ClientSession) -> None:
        write = Write()
        self.writes.append(write)
        answer = await self.send_write(session, write)
        write.acknowledged = answer.ok

    async def send_write(self, session: aiohttp.ClientSession, write: Write) -> Timed:
        body = {
            "customer_id": self._customer,
            "lines": [{"product_id": self._product, "quantity": 1}],
            "note": write.note,
        }
        headers = {**self._headers, "Idempotency-Key": write.key}
        return await self._timed(session, "write", "POST", f"{API}/orders", body, headers)

    async def _read(self, session: aiohttp.ClientSession) -> None:
        await self._timed(session, "read", "GET", f"{API}/products?limit=5", None, self._headers)

    async def _timed(
        self,
        session: aiohttp.ClientSession,
        kind: str,
        method: str,
        path: str,
        body: Any,
        headers: dict[str, str],
    ) -> Timed:
        sent = time.monotonic()
        fresh = id(session) not in self._kept_alive
        self._kept_alive.discard(id(session))
        try:
            async with session.request(method, path, json=body, headers=headers) as resp:
                payload = await resp.json(content_type=None) if resp.status >= 400 else None
                await resp.read()
                problem = payload.get("type", "").rsplit("/", 1)[-1] if payload else None
                answer = Timed(
                    kind,
                    sent,
                    time.monotonic() - sent,
                    resp.status,
                    problem,
                    resp.headers.get("Retry-After"),
                    fresh=fresh,
                )
                if resp.headers.get("Connection", "").lower() != "close":
                    self._kept_alive.add(id(session))
        except (aiohttp.ClientError, TimeoutError) as exc:
            took = time.monotonic() - sent
            answer = Timed(kind, sent, took, None, error=type(exc).__name__, fresh=fresh)
        self.answers.append(answer)
        return answer


def timeline(
    answers: list[Timed], start: float, zero: float | None = None, step: float = 0.25
) -> list[str]:
    """One line per `step` seconds from `start` (labelled from `zero`): ok / 503 / failed,
    and writes acknowledged."""
    zero = start if zero is None else zero
    if not answers:
        return []
    end = max(a.sent for a in answers)
    lines = [f"{'t (s)':>7} {'ok':>5} {'503':>5} {'failed':>6} {'writes ok':>9}"]
    slot = start
    while slot <= end:
        inside = [a for a in answers if slot <= a.sent < slot + step]
        ok = sum(a.ok for a in inside)
        unavailable = sum(a.status == 503 for a in inside)
        failed = sum(not a.ok and a.status != 503 for a in inside)
        writes = sum(a.ok and a.kind == "write" for a in inside)
        lines.append(f"{slot - zero:7.2f} {ok:5d} {unavailable:5d} {failed:6d} {writes:9d}")
        slot += step
    return lines
