"""JSON in and out: read a body or a query through a schema, write a JSON response."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from marshmallow import Schema, ValidationError

from domain.errors import InvalidInput
from infrastructure.encoding import json_bytes


class BadRequest(Exception):
    """Malformed input below the schema level (not JSON at all): 400."""


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


async def read_json(request: web.Request, schema: Schema) -> Any:
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    body = await request.read()  # client_max_size makes this raise 413 past the limit
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    return load(schema, data)


def load(schema: Schema, data: Any) -> Any:
    nul = _nul_paths(data, "")
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


def _errors(exc: ValidationError) -> dict[str, Any]:
    messages = exc.messages
    return messages if isinstance(messages, dict) else {"_schema": messages}


def _nul_paths(data: Any, path: str) -> list[str]:
    """Paths of the strings (and keys) holding a NUL, in document order. A loop, not recursion:
    orjson accepts nesting 1,024 deep, past Python's recursion limit."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                found.append(where or "_schema")
        elif isinstance(node, dict):
            children = []
            for key, value in node.items():
                child = f"{where}.{key}" if where else str(key)
                if "\x00" in str(key):
                    found.append(child)
                else:
                    children.append((value, child))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(
                (item, f"{where}.{i}" if where else str(i))
                for i, item in reversed(list(enumerate(node)))
            )
    return found
