"""The gunicorn worker: aiohttp's (on uvloop when it is installed), told which worker it is,
how many there are and the admin socket the manager opened (app/runtime/gunicorn_conf.py).

The app is imported after the fork, so a SIGHUP to the manager starts workers on new code.
A new worker says when it is ready to take over, and a worker told to stop drains its
keep-alive connections before aiohttp's shutdown (app/runtime/draining.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from aiohttp import web
from aiohttp.worker import GunicornUVLoopWebWorker, GunicornWebWorker

from app.runtime.draining import drain, install, mark_ready

try:
    import uvloop  # noqa: F401  # optional: pip install .[speed]

    _Base: Any = GunicornUVLoopWebWorker
except ImportError:
    _Base = GunicornWebWorker


class SalesWorker(_Base):  # type: ignore[misc]
    slot: int = 1  # set by the manager's pre_fork hook: 1..N, reused by a replacement
    admin_socket: socket.socket | None = None
    ready_dir: str | None = None  # set by pre_fork: where this worker says it is ready
    _runner: web.AppRunner | None = None
    _ready: asyncio.Task[None] | None = None
    _draining = False
    sockets: list[Any]  # gunicorn's listening sockets, set by its Worker.__init__

    def run(self) -> None:
        # aiohttp's sites close the listening sockets they are given when they stop, and
        # gunicorn's wrappers of the same descriptors then fail to close them again, logging
        # "Error while closing socket [Errno 9]" at every stop. aiohttp gets duplicates of
        # its own to close; gunicorn's go with the process (the manager and the other
        # workers hold the socket open anyway, so nothing about accepting changes).
        self.sockets = [socket.socket(fileno=os.dup(s.fileno())) for s in self.sockets]
        super().run()

    def load_wsgi(self) -> None:
        self.wsgi = self.create_app

    async def create_app(self) -> web.AppRunner:
        from app.runtime.config import for_workers, load_config
        from app.runtime.web_app import create_app

        config = for_workers(load_config(), self.cfg.workers, self.slot)
        app = await create_app(config, admin=self.admin_socket)
        install(app)
        grace = self.cfg.keepalive
        # The runner aiohttp's worker would build, kept here so a stop can drain it first;
        # the drain's grace comes out of the manager's graceful timeout.
        self._runner = web.AppRunner(
            app,
            keepalive_timeout=grace,
            access_log=None,
            shutdown_timeout=max(1.0, self.cfg.graceful_timeout * 0.95 - grace),
        )
        return self._runner

    def notify(self) -> None:
        """Also called first right after the sockets accept: the moment to say "ready"."""
        super().notify()
        if self._ready is None and self.ready_dir and self._runner is not None:
            ready = mark_ready(self._runner.app, self.ready_dir, os.getpid())
            self._ready = self.loop.create_task(ready)

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM (reload, upgrade, stop): drain, then let aiohttp shut down."""
        if self._draining:
            return
        self._draining = True
        self.loop.create_task(self._drain_then_stop())

    async def _drain_then_stop(self) -> None:
        try:
            if self._runner is not None:
                await drain(self._runner, grace=self.cfg.keepalive)
        finally:
            self.alive = False
            self._notify_waiter_done()
