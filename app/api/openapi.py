"""The OpenAPI 3.1 document, generated from the route table and the marshmallow schemas."""

from __future__ import annotations

from typing import Any

import orjson
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.api.schemas.common import Problem
from app.edge.consistency import CONSISTENCY_COOKIE
from app.edge.identity import SESSION_COOKIE
from app.edge.rules import Access, Route

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted: queued",
    204: "No content",
    400: "Unknown query parameter, malformed JSON, a body nested too deeply, or an API key used with another tenant's X-Tenant",
    401: "Missing, invalid, expired or revoked credentials",
    403: "The principal's role may not do this (or a browser sent a cookie-authenticated command from another site)",
    404: "Unknown tenant, or no such resource for this tenant",
    408: "The body did not arrive within the request deadline",
    409: "Conflict with current state (or an Idempotency-Key still in flight)",
    410: "Gone: the cursor points before what is still kept",
    413: "Body larger than the configured limit",
    415: "Body is not application/json",
    422: "Invalid input (or an Idempotency-Key reused with another request)",
    429: "Too many login attempts or lookups of unknown tenants; see Retry-After",
    500: "Unexpected error; only the request id is returned",
    503: "Database busy or unavailable, or the request deadline passed; retry after Retry-After",
}
_READ_YOUR_WRITES = (
    "Read your own writes: send the Consistency-Token of your last command's answer and this "
    "read sees that command's changes, even when it is served by a read replica. Without it a "
    "read may be served by a replica that has not yet replayed them. A token older than the "
    "replicas' allowed lag counts as absent."
)
_HEADER_PARAMS = {
    "tenant": {
        "name": "X-Tenant",
        "in": "header",
        "required": False,
        "description": "Tenant slug; else the first label of Host under BASE_DOMAIN, else DEFAULT_TENANT",
        "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"},
    },
    "request_id": {
        "name": "X-Request-ID",
        "in": "header",
        "required": False,
        # Any value is accepted: one that is not 1-128 of [A-Za-z0-9._:-] is replaced, not refused.
        "description": "Echoed back when it is 1-128 of [A-Za-z0-9._:-]; otherwise a new id is generated",
        "schema": {"type": "string"},
    },
    "consistency_token": {
        "name": "Consistency-Token",
        "in": "header",
        "required": False,
        "description": _READ_YOUR_WRITES,
        "schema": {"type": "string"},
    },
    "consistency_cookie": {
        "name": CONSISTENCY_COOKIE,
        "in": "cookie",
        "required": False,
        "description": "Set by this service on a command's answer and sent back by a cookie "
        "jar: the same guarantee as the Consistency-Token header, with no code",
        "schema": {"type": "string"},
    },
    "idempotency_key": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes the POST safe to retry for 24 h (same key + same body replays the first answer)",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    },
}


# Response headers, documented once as components and referenced where they are sent.
_RESPONSE_HEADERS = {
    "X-Request-ID": ("The request's id (the one sent, when acceptable), also in logs", "string"),
    "Location": ("URL of the resource just created", "string"),
    "Idempotent-Replayed": ("true when this is the stored answer to an earlier request", "string"),
    "Retry-After": ("Seconds to wait before retrying", "integer"),
    "WWW-Authenticate": ("The scheme to authenticate with: Bearer", "string"),
    "Consistency-Token": (
        "Sent back on a later read (header, or the sales-consistency cookie a cookie jar keeps) "
        "to read this command's writes; present when the service reads from replicas",
        "string",
    ),
}


def build_openapi(routes: tuple[Route, ...]) -> bytes:
    spec = APISpec(
        title="Sales API",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Multi-tenant sales API: tenants, customers, products, orders, invoices."
        },
        servers=[{"url": "/", "description": "This service, where this document is served"}],
    )
    for name, (description, kind) in _RESPONSE_HEADERS.items():
        spec.components.header(name, {"description": description, "schema": {"type": kind}})
    spec.components.schema("Problem", schema=Problem)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}
    )
    for route in routes:
        path = spec._paths.setdefault(route.path, {})  # apispec merges operations per path
        path[route.method.lower()] = _operation(route)
    for path, operations in spec._paths.items():
        spec.path(path=path, operations=operations)
    doc = spec.to_dict()
    # Said once for the document, not per operation: a generator then lets a plain client
    # with a cookie jar call them too (openapi-python-client asks for its token-carrying
    # client wherever an operation names its own security).
    doc["security"] = [{"bearer": []}, {"session": []}]
    _require_every_output_field(doc)
    _query_parameters_are_never_null(doc)
    return orjson.dumps(doc)


def _query_parameters_are_never_null(doc: dict[str, Any]) -> None:
    """A filter is absent or has a value: a query string cannot say null. apispec writes the
    schemas' `load_default=None` as a nullable type with `null` among the enum's values, and
    a generator turns that into several enum types for one parameter."""
    for operation in _operations(doc):
        for parameter in operation.get("parameters", ()):
            schema = parameter.get("schema", {})
            if parameter.get("in") != "query":
                continue
            if isinstance(schema.get("type"), list):
                kinds = [kind for kind in schema["type"] if kind != "null"]
                schema["type"] = kinds[0] if len(kinds) == 1 else kinds
            if "enum" in schema:
                schema["enum"] = [value for value in schema["enum"] if value is not None]
            if "default" in schema and schema["default"] is None:
                del schema["default"]


def _require_every_output_field(doc: dict[str, Any]) -> None:
    """Every answer carries every field of its schema (null where allowed), so say so: a
    generator then types `invoice.status` as a str, not as "str or unset"."""
    schemas = doc["components"]["schemas"]
    pending = [
        media["schema"]
        for operation in _operations(doc)
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for media in response.get("content", {}).values()
    ]
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                component = schemas[name]
                component["required"] = sorted(component.get("properties", {}))
                pending.append(component)
            continue
        pending.extend(node.values())


def _operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for ops in doc["paths"].values() for op in ops.values() if isinstance(op, dict)]


def _headers(*names: str) -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [_HEADER_PARAMS["request_id"]],
        "responses": {},
    }
    if route.access is not Access.OPEN:
        op["parameters"].append(_HEADER_PARAMS["tenant"])
    for name in ("id", "delivery_id"):
        if "{" + name + "}" in route.path:
            op["parameters"].append(
                {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                }
            )
    if route.query is not None:
        op["parameters"].append({"in": "query", "schema": route.query})
    if route.idempotent:
        op["parameters"].append(_HEADER_PARAMS["idempotency_key"])
    if route.body is not None:
        op["requestBody"] = {
            "required": route.body_required,
            "content": {"application/json": {"schema": route.body}},
        }
    if route.access is not Access.PRINCIPAL:
        op["security"] = []  # overrides the document's: no credentials needed

    ok_headers = ["X-Request-ID"]
    if route.location is not None:
        ok_headers.append("Location")
    if route.idempotent:
        ok_headers.append("Idempotent-Replayed")
    ok_headers += _read_your_writes(route, op)
    ok: dict[str, Any] = {
        "description": _STATUS_TEXT[route.status],
        "headers": _headers(*ok_headers),
    }
    if route.response is not None:
        ok["content"] = {"application/json": {"schema": route.response}}
    op["responses"][str(route.status)] = ok
    for status in sorted(_error_statuses(route)):
        op["responses"][str(status)] = {
            "description": _STATUS_TEXT[status],
            "headers": _headers("X-Request-ID", *_ERROR_HEADERS.get(status, ())),
            "content": {"application/problem+json": {"schema": "Problem"}},
        }
    return op


def _read_your_writes(route: Route, op: dict[str, Any]) -> list[str]:
    """The Consistency-Token in an operation: what a tenant read takes (the header or its
    cookie), what a tenant command answers with. Returns the answer's extra headers."""
    if route.access is Access.OPEN:
        return []
    if not route.changes_state:
        op["parameters"] += [
            _HEADER_PARAMS["consistency_token"],
            _HEADER_PARAMS["consistency_cookie"],
        ]
        op["description"] = _READ_YOUR_WRITES
        return []
    op["description"] = (
        "The answer's Consistency-Token (and sales-consistency cookie), sent back on a "
        "later read, makes that read see this command's changes."
    )
    return ["Consistency-Token"]


_ERROR_HEADERS = {
    401: ("WWW-Authenticate",),
    409: ("Retry-After",),  # an Idempotency-Key still in flight
    429: ("Retry-After",),
    503: ("Retry-After",),
}


def _error_statuses(route: Route) -> set[int]:
    statuses = set(route.errors) | {400, 500}  # every route refuses unknown query parameters
    if route.access is Access.OPEN:
        return statuses
    # unknown tenant; too many unknown tenants from this address; database busy or deadline
    statuses |= {404, 429, 503}
    if route.access is Access.PRINCIPAL:
        statuses.add(401)
    if route.changes_state:
        statuses.add(408)
        if route.access is Access.PRINCIPAL:
            statuses.add(403)  # a cookie-authenticated command from another site (CSRF)
    if route.body is not None:
        statuses |= {400, 413, 415, 422}
    if route.query is not None:
        statuses.add(422)
    if route.idempotent:
        statuses |= {409, 422}
    return statuses
