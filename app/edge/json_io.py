"""JSON in and out: read a body or a query through a schema, write a JSON response."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from aiohttp import web
from marshmallow import Schema, ValidationError

from domain.errors import InvalidInput
from infrastructure.encoding import json_bytes

# No request of this API nests deeper than an order's lines (3 levels); 32 leaves room for any
# future shape while keeping every walk over the input short and free of recursion.
MAX_DEPTH = 32


class BadRequest(Exception):
    """Malformed input below the schema level (not JSON at all): 400."""


class TooDeep(BadRequest):
    """JSON nested deeper than MAX_DEPTH: refused before anything walks it (400)."""

    def __init__(self) -> None:
        super().__init__(f"the body nests deeper than {MAX_DEPTH} levels")


class UnknownParameters(Exception):
    """Query parameters the route does not define: 400, naming each one."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(names)
        super().__init__("unknown query parameter(s): " + ", ".join(self.names))
        self.errors = {name: ["unknown query parameter"] for name in self.names}


class UnsupportedMediaType(Exception):
    """A JSON endpoint got another content type: 415."""


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=json_bytes(data),
        content_type="application/json",
        headers=headers,
    )


async def read_json(request: web.Request, schema: Schema, required: bool = True) -> Any:
    """The body through `schema`; with `required=False` an absent body reads as `{}`."""
    if not required and not request.body_exists:
        return load(schema, {})  # no body at all, whatever type a client library labelled it
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    body = await request.read()  # client_max_size makes this raise 413 past the limit
    if not required and not body:
        return load(schema, {})
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):  # orjson's own bound, at 1024
            raise TooDeep() from None
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    return load(schema, data)


def load(schema: Schema, data: Any) -> Any:
    nul = _nul_paths(data)
    if nul:
        # PostgreSQL text cannot hold NUL; refuse it here, where every input passes, with the
        # field named, rather than let the driver fail deep down.
        raise InvalidInput(
            "text must not contain NUL characters", {p: ["contains a NUL character"] for p in nul}
        )
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput("the request does not match the schema", _errors(exc)) from None


def check_query(schema: Schema | None, query: Any) -> None:
    """Refuse a parameter the route does not define: ignoring it would answer another question."""
    known = set() if schema is None else {f.data_key or n for n, f in schema.load_fields.items()}
    unknown = set(query.keys()) - known
    if unknown:
        raise UnknownParameters(unknown)


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    """marshmallow's nested messages as one flat map, `lines.0.quantity` -> messages: the
    Problem schema can then type `errors` exactly, for every client generator."""
    flat: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [("", exc.messages)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend((f"{path}.{key}" if path else str(key), sub) for key, sub in node.items())
        else:
            messages = node if isinstance(node, list) else [node]
            flat.setdefault(path or "_schema", []).extend(str(m) for m in messages)
    return flat


def _nul_paths(data: Any) -> list[str]:
    """Paths of strings holding NUL; iterative and depth-bounded, so no input can exhaust the
    stack (a recursive walk answered a 500-deep body with a RecursionError)."""
    found: list[str] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(path or "_schema")
            continue
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise TooDeep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                child_path = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    found.append(child_path)
                else:
                    stack.append((child, child_path, depth + 1))
    return sorted(found)
