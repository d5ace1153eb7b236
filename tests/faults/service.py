"""The real service as a child process (`python -m app`), and a small HTTP client for it.

Fault tests need the real thing: its own event loop, its own pool, its own signal handling.
The process talks only to the private cluster and listens only on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from infrastructure.seed import DEMO_PASSWORD
from tests.support.pgcluster import PgCluster, free_port

API = "/api/sales"
TENANT = "acme"
USER = "alice@acme.test"
APPLICATION_NAME = "sales-api"  # what the pool tells PostgreSQL (pg_stat_activity)
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Answer:
    """What one request got: a status, or a transport failure (status None)."""

    kind: str
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Service:
    def __init__(self, cluster: PgCluster, log_path: Path, **settings: Any) -> None:
        self.port = free_port()
        self.admin_port = free_port()  # /metrics lives on the admin port
        self.log_path = log_path
        self.request_timeout = float(settings.get("REQUEST_TIMEOUT", 5))
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")},
            "DATABASE_URL": cluster.url("sales_app"),
            "MIGRATION_DATABASE_URL": cluster.url("sales_owner"),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "ADMIN_PORT": str(self.admin_port),
            "DB_POOL_MIN": "1",
            "DB_POOL_MAX": "5",
            "DB_POOL_ACQUIRE_TIMEOUT": "2",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            "REQUEST_TIMEOUT": str(self.request_timeout),
            "SHUTDOWN_TIMEOUT": "5",
            **{k: str(v) for k, v in settings.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.session: aiohttp.ClientSession | None = None
        self.headers: dict[str, str] = {"X-Tenant": TENANT}

    # ---- the process ----------------------------------------------------------------------

    async def start(self) -> None:
        self._spawn()
        # A hung request fails the test instead of hanging it: the deadline plus a margin.
        self.session = aiohttp.ClientSession(
            base_url=f"http://127.0.0.1:{self.port}",
            timeout=aiohttp.ClientTimeout(total=self.request_timeout + 5),
        )
        await self._until_listening(within=20)

    def _spawn(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app"],
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    async def _until_listening(self, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log()
            answer = await self.get("/healthz")
            if answer.status == 200:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the service did not listen within {within}s\n{self.log()}")

    def signal(self, signum: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    async def exit_code(self, within: float) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + within
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, f"still running after {within}s\n{self.log()}"
            await asyncio.sleep(0.05)
        return self.proc.returncode

    async def close(self) -> None:
        """Always: kill the process if it still runs, close the client session."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=10)
        if self.session is not None:
            await self.session.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    # ---- HTTP -----------------------------------------------------------------------------

    async def metrics_text(self) -> str:
        """The admin port's /metrics, as text."""
        url = f"http://127.0.0.1:{self.admin_port}/metrics"
        async with aiohttp.ClientSession() as admin, admin.get(url) as resp:
            assert resp.status == 200, f"/metrics answered {resp.status}"
            return await resp.text()

    async def request(self, kind: str, method: str, path: str, **kw: Any) -> Answer:
        assert self.session is not None
        try:
            async with self.session.request(method, path, **kw) as resp:
                raw = await resp.read()
                return Answer(kind, resp.status, dict(resp.headers), _decode(raw))
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            return Answer(kind, None, error=type(exc).__name__)

    async def get(self, path: str, kind: str = "read") -> Answer:
        return await self.request(kind, "GET", path, headers=self.headers)

    async def post_login(self, tenant: str = TENANT, email: str = USER) -> Answer:
        """A login with the demo password; the client's own headers stay as they are."""
        return await self.request(
            "login",
            "POST",
            f"{API}/auth/login",
            json={"email": email, "password": DEMO_PASSWORD},
            headers={"X-Tenant": tenant},
        )

    async def login(self) -> Answer:
        """Log in as the demo user; its token goes with every later request."""
        answer = await self.post_login()
        if answer.ok:
            self.headers = {"X-Tenant": TENANT, "Authorization": f"Bearer {answer.body['token']}"}
        return answer

    async def place_order(self, order: Order) -> Answer:
        answer = await self.request(
            "order",
            "POST",
            f"{API}/orders",
            json=order.body,
            headers={**self.headers, "Idempotency-Key": order.key},
        )
        order.answers.append(answer)
        return answer


StartService = Callable[..., Awaitable[Service]]


@asynccontextmanager
async def service_starter(
    cluster: PgCluster, logs: pytest.TempPathFactory, **defaults: Any
) -> AsyncIterator[StartService]:
    """`start(**settings)` runs `python -m app` on `cluster` (settings over `defaults`) as often
    as a test asks; every process started is killed on the way out if it still runs."""
    started: list[Service] = []

    async def start(**settings: Any) -> Service:
        log = logs.mktemp("service") / "service.log"
        service = Service(cluster, log, **{**defaults, **settings})
        started.append(service)
        await service.start()
        return service

    try:
        yield start
    finally:
        for service in started:
            await service.close()


@dataclass
class Order:
    """One order command with a unique Idempotency-Key and a unique note to find it by."""

    customer_id: uuid.UUID
    product_id: uuid.UUID
    quantity: int = 1
    note: str = field(default_factory=lambda: f"faults-{uuid.uuid4().hex}")
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    answers: list[Answer] = field(default_factory=list)

    @property
    def body(self) -> dict[str, Any]:
        return {
            "customer_id": str(self.customer_id),
            "lines": [{"product_id": str(self.product_id), "quantity": self.quantity}],
            "note": self.note,
        }

    @property
    def acknowledged(self) -> bool:
        return any(a.ok for a in self.answers)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


class Stream:
    """A few concurrent clients, each placing an order then reading, until stopped.

    Bounded in count as well as by the caller's stop; a client stops at its first transport
    failure (the service is going away).
    """

    def __init__(
        self,
        service: Service,
        customer_id: uuid.UUID,
        product_id: uuid.UUID,
        clients: int = 4,
        max_orders: int = 400,
    ) -> None:
        self._service = service
        self.customer_id, self.product_id = customer_id, product_id
        self._clients = clients
        self._max_orders = max_orders
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.orders: list[Order] = []
        self.answers: list[Answer] = []

    async def __aenter__(self) -> Stream:
        self._tasks = [asyncio.create_task(self._client()) for _ in range(self._clients)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _client(self) -> None:
        while not self._stop.is_set() and len(self.orders) < self._max_orders:
            order = Order(self.customer_id, self.product_id)
            self.orders.append(order)
            if not await self._kept(self._service.place_order(order)):
                return
            for path in (f"{API}/products?limit=5", f"{API}/orders?limit=5"):
                if not await self._kept(self._service.get(path)):
                    return
            await asyncio.sleep(0.01)

    async def _kept(self, request: Awaitable[Answer]) -> bool:
        """Keep the answer; False once the service does not answer at all."""
        answer = await request
        self.answers.append(answer)
        return answer.status is not None

    async def until_acknowledged(self, count: int, within: float = 20) -> None:
        deadline = time.monotonic() + within
        while sum(o.acknowledged for o in self.orders) < count:
            assert time.monotonic() < deadline, f"fewer than {count} orders in {within}s"
            assert any(not t.done() for t in self._tasks), "every client stopped"
            await asyncio.sleep(0.02)
