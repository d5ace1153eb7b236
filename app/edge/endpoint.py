"""Turns a row of the route table into an aiohttp handler: parse, call, answer.

Every route goes through here. The wrapper parses the query and the body with the row's
schemas, builds the handler's `Call`, and answers the handler's result with the row's status
and `Location`. A route that changes state also gets the command runner (the whole command is
retried on a serialization failure or deadlock) and, when the row says so and the client
sends one, the Idempotency-Key: its claim goes to the service and from there to the
UnitOfWork explicitly, and a repeat is answered with the first answer's bytes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from aiohttp import web

from app.edge.call import Call
from app.edge.json_io import check_query, json_response, load, read_json
from app.edge.keys import CONTAINER, CREATED_ID, PRINCIPAL, REPLAYED, TENANT
from app.edge.rules import Route
from app.edge.types import Handler
from domain.errors import InvalidInput
from domain.ports import IdempotencyClaim
from infrastructure.idempotency import Replay
from infrastructure.unit_of_work import run_command

IDEMPOTENCY_KEY = "Idempotency-Key"


def endpoint(route: Route) -> Handler:
    query_schema = route.query() if route.query is not None else None
    body_schema = route.body() if route.body is not None else None

    def _private(response: web.StreamResponse) -> web.StreamResponse:
        if route.no_store:
            response.headers["Cache-Control"] = "no-store"
        return response

    async def call_of(request: web.Request) -> Call:
        check_query(query_schema, request.query)
        query = load(query_schema, dict(request.query)) if query_schema is not None else {}
        body = (
            await read_json(request, body_schema, route.body_required)
            if body_schema is not None
            else None
        )
        return Call(
            request,
            request.app[CONTAINER].services,
            request.get(TENANT),
            request.get(PRINCIPAL),
            query,
            body,
        )

    async def read(request: web.Request) -> web.StreamResponse:
        call = await call_of(request)
        return _private(answer(request, route, await route.handler(call)))

    async def command(request: web.Request) -> web.StreamResponse:
        key = request.headers.get(IDEMPOTENCY_KEY) if route.idempotent else None
        if key is not None:
            _check_key(key)
        call = await call_of(request)
        if key is not None:
            call.idempotency = await _claim(request, route, key)
        db = request.app[CONTAINER].db
        try:
            result = await run_command(lambda: route.handler(call), db)
        except Replay as replay:
            return _private(_replayed(request, route, replay))
        return _private(answer(request, route, result))

    return command if route.changes_state else read


def answer(request: web.Request, route: Route, result: Any) -> web.StreamResponse:
    """The row's answer for a handler's result (a handler may also build its own response)."""
    if isinstance(result, web.StreamResponse):
        return result
    if route.status == 204:
        return web.Response(status=204)
    created = getattr(result, "id", None)
    location = location_of(request, route, created)
    headers = {"Location": location} if location else None
    response = json_response(result, status=route.status, headers=headers)
    if route.status == 201 and created is not None:
        response[CREATED_ID] = str(created)
    return response


def location_of(request: web.Request, route: Route, ident: object) -> str | None:
    """The one `Location` builder: the URL of the route that serves what `route` created."""
    if route.location is None or ident is None:
        return None
    return str(request.app.router[route.location].url_for(id=str(ident)))


def _check_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise InvalidInput(
            "bad Idempotency-Key", {IDEMPOTENCY_KEY: ["1 to 255 printable ASCII characters"]}
        )


async def _claim(request: web.Request, route: Route, key: str) -> IdempotencyClaim:
    body = await request.read()  # cached: already read for the handler, if it has a body
    fingerprint = hashlib.sha256(
        b"\0".join([request.method.encode(), request.path.encode(), body])
    ).digest()
    return IdempotencyClaim(key, fingerprint, route.path, route.status)


def _replayed(request: web.Request, route: Route, replay: Replay) -> web.Response:
    headers = {"Idempotent-Replayed": "true"}
    created = orjson.loads(replay.body).get("id") if replay.status == 201 else None
    if route.location is not None:
        location = location_of(request, route, created)
        if location:
            headers["Location"] = location
    response = web.Response(
        status=replay.status, body=replay.body, content_type="application/json", headers=headers
    )
    response[REPLAYED] = True
    if created is not None:
        response[CREATED_ID] = str(created)
    return response
