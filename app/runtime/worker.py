"""The gunicorn worker: aiohttp's (on uvloop when it is installed), told which worker it is,
how many there are and the admin socket the manager opened (app/runtime/gunicorn_conf.py).

The app is imported after the fork, so a SIGHUP to the manager starts workers on new code.
"""

from __future__ import annotations

import socket
from typing import Any

from aiohttp import web
from aiohttp.worker import GunicornUVLoopWebWorker, GunicornWebWorker

try:
    import uvloop  # noqa: F401  # optional: pip install .[speed]

    _Base: Any = GunicornUVLoopWebWorker
except ImportError:
    _Base = GunicornWebWorker


class SalesWorker(_Base):  # type: ignore[misc]
    slot: int = 1  # set by the manager's pre_fork hook: 1..N, reused by a replacement
    admin_socket: socket.socket | None = None

    def load_wsgi(self) -> None:
        self.wsgi = self.create_app

    async def create_app(self) -> web.Application:
        from app.runtime.config import for_workers, load_config
        from app.runtime.web_app import create_app

        config = for_workers(load_config(), self.cfg.workers, self.slot)
        return await create_app(config, admin=self.admin_socket)
