"""The last stages of the pipeline (app/edge/pipeline.py) for one row: parse, handler, answer.

The row's schemas parse the query and the body into the handler's `Call`; the handler's
result is answered with the row's status and `Location`. A route that changes state also gets
the command runner (the whole command is retried on a serialization failure or deadlock) and,
when the row says so and the client sends one, the Idempotency-Key: its claim goes to the
service and from there to the UnitOfWork explicitly, and a repeat comes back from the command
runner as a `Replayed` result, answered with the first answer's bytes.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from app.edge.call import Call
from app.edge.json_io import check_query, json_response, load, read_json
from app.edge.keys import CONTAINER, CREATED_ID, PRINCIPAL, REPLAYED, TENANT
from app.edge.rules import Route
from domain.errors import InvalidInput
from domain.ports import IdempotencyClaim
from infrastructure.idempotency import Replayed
from infrastructure.unit_of_work import run_command

if TYPE_CHECKING:
    from app.edge.pipeline import Stopwatch

IDEMPOTENCY_KEY = "Idempotency-Key"


class Endpoint:
    """Parse -> handler -> answer, for one row of the route table."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self._query = route.query() if route.query is not None else None
        self._body = route.body() if route.body is not None else None

    async def serve(self, request: web.Request, watch: Stopwatch) -> web.StreamResponse:
        call = await self.parse(request)
        watch.mark("parse")
        if self.route.changes_state:
            result = await self.command(request, call)
        else:
            result = await self.route.handler(call)
        response = self.answer(request, result)
        watch.mark("handler")
        return response

    async def parse(self, request: web.Request) -> Call[Any, Any]:
        """The handler's `Call`: the row's schemas over the query and the body; the claim of a
        command's Idempotency-Key."""
        route = self.route
        key = request.headers.get(IDEMPOTENCY_KEY) if route.idempotent else None
        if key is not None:
            _check_key(key)
        check_query(self._query, request.query)
        query = load(self._query, dict(request.query)) if self._query is not None else None
        body = (
            await read_json(request, self._body, route.body_required)
            if self._body is not None
            else None
        )
        call = Call(
            request,
            request.app[CONTAINER].services,
            request.get(TENANT),
            request.get(PRINCIPAL),
            query,
            body,
        )
        if key is not None:
            call.idempotency = await _claim(request, route, key)
        return call

    async def command(self, request: web.Request, call: Call[Any, Any]) -> Any:
        """The handler under the command runner: its result, or the key's first answer."""
        return await run_command(lambda: self.route.handler(call), request.app[CONTAINER].db)

    def answer(self, request: web.Request, result: Any) -> web.StreamResponse:
        """The row's answer for a handler's result (a handler may also build its own)."""
        route = self.route
        if isinstance(result, Replayed):
            response: web.StreamResponse = _replayed(request, route, result)
        elif isinstance(result, web.StreamResponse):
            response = result
        elif route.status == 204:
            response = web.Response(status=204)
        else:
            response = _created(request, route, result)
        if route.no_store:
            response.headers["Cache-Control"] = "no-store"
        return response


def _created(request: web.Request, route: Route, result: Any) -> web.Response:
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
    body = await request.read()  # cached: already read by the pipeline's receive stage
    fingerprint = hashlib.sha256(
        b"\0".join([request.method.encode(), request.path.encode(), body])
    ).digest()
    return IdempotencyClaim(key, fingerprint, route.path, route.status)


def _replayed(request: web.Request, route: Route, replay: Replayed) -> web.Response:
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
