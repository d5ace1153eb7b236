"""The wrapper every state-changing POST handler goes through.

It retries the whole command on serialization failure or deadlock, and implements the
Idempotency-Key header: the record is written by the command's own UnitOfWork (see
infrastructure.idempotency), so a replay returns exactly the bytes first sent.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable

from aiohttp import web

from app.http import json_bytes
from app.keys import DATABASE
from domain.errors import InvalidInput
from infrastructure import idempotency
from infrastructure.db.uow import run_command

HandlerFn = Callable[[web.Request], Awaitable[web.Response]]
HEADER = "Idempotency-Key"


def command(success_status: int, location: str | None = None) -> Callable[[HandlerFn], HandlerFn]:
    """`location`: name of the route that serves the created resource (by the result's id), so
    a replay carries the same Location header the handler gave the first answer."""

    def wrap(handler: HandlerFn) -> HandlerFn:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.Response:
            key = request.headers.get(HEADER)
            if key is None:
                return await run_command(lambda: handler(request), request.app[DATABASE])
            locate = _locator(request, location)
            return await _idempotent(request, handler, key, success_status, locate)

        run.idempotent = True  # type: ignore[attr-defined]  # read by the OpenAPI builder
        return run

    return wrap


def retrying(handler: HandlerFn) -> HandlerFn:
    """For commands without Idempotency-Key support (PATCH, DELETE, logout): only the retry on
    serialization failure or deadlock."""

    @functools.wraps(handler)
    async def run(request: web.Request) -> web.Response:
        return await run_command(lambda: handler(request), request.app[DATABASE])

    return run


def _locator(request: web.Request, route: str | None) -> Callable[[object], str | None]:
    def locate(result: object) -> str | None:
        ident = getattr(result, "id", None)
        if route is None or ident is None:
            return None
        return str(request.app.router[route].url_for(id=str(ident)))

    return locate


async def _idempotent(
    request: web.Request,
    handler: HandlerFn,
    key: str,
    status: int,
    locate: Callable[[object], str | None],
) -> web.Response:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise InvalidInput("bad Idempotency-Key", {HEADER: ["1 to 255 printable ASCII characters"]})
    route = (
        request.match_info.route.resource.canonical
        if request.match_info.route.resource
        else request.path
    )
    body = await request.read()  # cached: the handler reads the same bytes again
    fingerprint = hashlib.sha256(
        b"\0".join([request.method.encode(), request.path.encode(), body])
    ).digest()
    claim = idempotency.IdempotentRequest(key, fingerprint, route, status, json_bytes, locate)
    token = idempotency.current.set(claim)
    try:
        return await run_command(lambda: handler(request), request.app[DATABASE])
    except idempotency.Replay as replay:
        headers = {"Idempotent-Replayed": "true"}
        if replay.location:
            headers["Location"] = replay.location
        return web.Response(
            status=replay.status, body=replay.body, content_type="application/json", headers=headers
        )
    finally:
        idempotency.current.reset(token)
