"""The OpenAPI 3.1 document, generated from the route table and the marshmallow schemas."""

from __future__ import annotations

from typing import Any

import orjson
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from app.api.schemas.common import Problem
from app.edge.identity import SESSION_COOKIE
from app.edge.rules import Access, Route

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted: queued",
    204: "No content",
    400: "Unknown query parameter, malformed JSON, a body nested too deeply, or an API key used with another tenant's X-Tenant",
    401: "Missing, invalid, expired or revoked credentials",
    403: "The principal's role may not do this",
    404: "Unknown tenant, or no such resource for this tenant",
    408: "The body did not arrive within the request deadline",
    409: "Conflict with current state (or an Idempotency-Key still in flight)",
    410: "Gone: the cursor points before what is still kept",
    413: "Body larger than the configured limit",
    415: "Body is not application/json (a command authenticated by the session cookie needs it even without a body)",
    422: "Invalid input (or an Idempotency-Key reused with another request)",
    429: "Too many login attempts or lookups of unknown tenants; see Retry-After",
    500: "Unexpected error; only the request id is returned",
    503: "Database busy or unavailable, or the request deadline passed; retry after Retry-After",
}
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
    _require_every_output_field(doc)
    return orjson.dumps(doc)


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
    authenticated = route.access is Access.PRINCIPAL
    op["security"] = [{"bearer": []}, {"session": []}] if authenticated else []

    ok_headers = ["X-Request-ID"]
    if route.location is not None:
        ok_headers.append("Location")
    if route.idempotent:
        ok_headers.append("Idempotent-Replayed")
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
            statuses.add(415)  # cookie-authenticated commands must be sent as JSON (CSRF)
    if route.body is not None:
        statuses |= {400, 413, 415, 422}
    if route.query is not None:
        statuses.add(422)
    if route.idempotent:
        statuses |= {409, 422}
    return statuses
