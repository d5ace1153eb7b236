"""Leaving without dropping a request, and saying when a worker is ready to take over.

gunicorn on its own stops old workers while new ones still boot, and aiohttp's shutdown
closes idle keep-alive connections at once, just as a client may be sending its next request
on one (benoitc/gunicorn#3394 reports the drops). Here a worker told to stop (SIGTERM from the
manager: a reload, an upgrade or a stop):

1. stops accepting: the listening socket is closed in this process only; the other workers
   (or the new ones) keep accepting on their copies;
2. answers every request from now on with `Connection: close`, so each keep-alive
   connection's next request is served, and the client reconnects to a worker that stays;
3. waits until its connections are gone or DRAIN_GRACE (gunicorn's keepalive: an idle
   connection would be closed by then anyway) has passed; only then does aiohttp's own
   shutdown close what is left and wait for requests still running (SHUTDOWN_TIMEOUT).

Readiness: a new worker writes `<ready dir>/<pid>` once its sockets accept, its pool has
answered, the first replica poll is done (both in Container.start) and the auth listener
listens (or did not within LISTENER_WAIT: a deaf listener must not block a deploy). The
manager (gunicorn_conf.py) waits for these files before it stops any old worker.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import structlog
from aiohttp import web

log = structlog.get_logger("app.runtime")

DRAINING: web.AppKey[list[bool]] = web.AppKey("draining")
LISTENER_WAIT = 5.0
_POLL = 0.05


def install(app: web.Application) -> None:
    """Hook the `Connection: close` answers into the app (a one-element flag, set on drain)."""
    app[DRAINING] = [False]
    app.on_response_prepare.append(_close_when_draining)


async def _close_when_draining(request: web.Request, response: web.StreamResponse) -> None:
    if request.app[DRAINING][0]:
        response.force_close()  # the server closes the connection after this answer
        # ... and the client must be told: aiohttp runs this hook after it has written the
        # Connection header, so force_close() alone closes a connection the client was told
        # it could keep (the very drop this module exists to prevent).
        response.headers["Connection"] = "close"


async def drain(runner: web.AppRunner, grace: float) -> None:
    """Steps 1-3 above; the caller then lets aiohttp's shutdown run."""
    started = time.monotonic()
    for site in list(runner.sites):
        await site.stop()
    runner.app[DRAINING][0] = True
    server = runner.server
    deadline = started + grace
    quiet = 0  # consecutive polls without a connection
    while server is not None and quiet < 2 and time.monotonic() < deadline:
        # Twice in a row: a connection accepted just before the socket closed is only
        # registered a loop turn or two later, and closing under it would drop its request.
        quiet = 0 if server.connections else quiet + 1
        await asyncio.sleep(_POLL)  # connections close as their next answers go out
    left = len(server.connections) if server is not None else 0
    log.info(
        "worker_drained",
        seconds=round(time.monotonic() - started, 3),
        connections_left=left,
    )


async def mark_ready(app: web.Application, ready_dir: str, pid: int) -> None:
    """Write the readiness file once the auth listener listens (bounded by LISTENER_WAIT)."""
    from app.edge.keys import CONTAINER

    listener = app[CONTAINER].listener
    deadline = time.monotonic() + LISTENER_WAIT
    while listener is not None and not listener.up:
        if time.monotonic() >= deadline:
            break  # a deaf or failing listener must not block a deploy
        await asyncio.sleep(_POLL)  # the listener has no event to wait on; polling is cheap
    await asyncio.to_thread(Path(ready_dir, str(pid)).touch)
