"""Webhook delivery tests: a real receiver (aiohttp on a free loopback port) that verifies
every call with the `standardwebhooks` package, as a client of ours would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from tests.support.database_tier import require_database
from tests.support.server import free_port

KEY = "test-webhook-sealing-key-0123456789"


def pytest_configure() -> None:
    require_database()


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers `mode`: ok (204), fail (500), hang (sleeps past any timeout), or for its next
    calls the modes queued in `answers`; `down()` closes the port so calls are refused, `up()`
    opens it again on the same port."""

    port: int = field(default_factory=free_port)
    # Endpoints left behind by earlier tests may point at a port this receiver now has: only
    # calls under its own prefix are its own (others get 410 and are not recorded).
    prefix: str = field(default_factory=lambda: "/" + uuid.uuid4().hex[:12])
    mode: str = "ok"
    answers: list[str] = field(default_factory=list)  # the next calls' modes, first first
    calls: list[Call] = field(default_factory=list)  # every call, answered or not
    delivered: list[Call] = field(default_factory=list)  # those answered 2xx
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)  # paths called twice at once
    delay: float = 0.0
    _runner: web.AppRunner | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}{path}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not request.path.startswith(self.prefix + "/"):
            return web.Response(status=410)
        path = request.path.removeprefix(self.prefix)
        call = Call(path, dict(request.headers), await request.read())
        mode = self.answers.pop(0) if self.answers else self.mode
        self.calls.append(call)
        self.in_flight[call.path] = self.in_flight.get(call.path, 0) + 1
        if self.in_flight[call.path] > 1:
            self.overlaps.append(call.path)
        try:
            if mode == "hang":
                await asyncio.sleep(3600)
            if self.delay:
                await asyncio.sleep(self.delay)
            if mode == "fail":
                return web.Response(status=500)
            self.delivered.append(call)
            return web.Response(status=204)
        finally:
            self.in_flight[call.path] -= 1

    async def up(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.up()
    yield r
    await r.down()


@pytest.fixture
async def api(make_client: Any) -> Any:
    """The service, with webhooks on and allowed to point at this machine's receivers."""
    return await make_client(webhook_secret_key=KEY, webhook_allow_private=True)


def verified(secret: str, call: Call) -> Any:
    """The event, as the standardwebhooks library verifies and parses it."""
    return Webhook(secret).verify(call.body, call.headers)
