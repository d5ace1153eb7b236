"""RFC 9457 problem+json responses, and the one table mapping domain errors to them."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from app.edge.admission import Overloaded
from app.edge.identity import TenantMismatch
from app.edge.json_io import BadRequest, TooDeep, UnknownParameters, UnsupportedMediaType
from app.edge.keys import PROBLEM_TYPE
from app.edge.ratelimit import RateLimited
from app.edge.receive import BodyTimeout
from domain import errors as domain
from infrastructure import idempotency
from infrastructure.db import errors as infra
from infrastructure.db.consistency import InvalidConsistencyToken


class RequestTimeout(Exception):
    """The request passed REQUEST_TIMEOUT; whatever it did was rolled back (503, retryable)."""

    retry_after = 1
    detail = "the request did not finish within the deadline; it was rolled back"


PROBLEM_BASE = "https://sales-api.example/problems/"
CONTENT_TYPE = "application/problem+json"

# error class -> (status, type slug, title). Looked up along the MRO, most specific first.
_DOMAIN_TABLE: dict[type[Exception], tuple[int, str, str]] = {
    domain.UnknownTenant: (404, "unknown-tenant", "Unknown tenant"),
    domain.NotFound: (404, "not-found", "Not found"),
    domain.AuthenticationFailed: (401, "unauthenticated", "Authentication required"),
    domain.PermissionDenied: (403, "forbidden", "Not allowed"),
    domain.UnknownReferences: (422, "unknown-reference", "Unknown reference"),
    domain.InsufficientStock: (409, "insufficient-stock", "Insufficient stock"),
    domain.InvalidTransition: (409, "invalid-transition", "Invalid state transition"),
    domain.Conflict: (409, "conflict", "Conflict"),
    domain.InvalidInput: (422, "validation-error", "Invalid input"),
    idempotency.InFlight: (409, "idempotency-in-flight", "Request with this key still running"),
    idempotency.KeyReused: (
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused with another request",
    ),
    TooDeep: (400, "too-deeply-nested", "Body nested too deeply"),
    BadRequest: (400, "malformed-json", "Malformed JSON"),
    UnknownParameters: (400, "unknown-parameter", "Unknown query parameter"),
    UnsupportedMediaType: (415, "unsupported-media-type", "Unsupported media type"),
    TenantMismatch: (400, "tenant-mismatch", "API key of another tenant"),
    BodyTimeout: (408, "body-timeout", "Request body too slow"),
    InvalidConsistencyToken: (400, "invalid-consistency-token", "Invalid Consistency-Token"),
    RateLimited: (429, "rate-limited", "Too many requests"),
    RequestTimeout: (503, "request-timeout", "Request took too long"),
    Overloaded: (503, "overloaded", "Service busy"),
    infra.PoolTimeout: (503, "pool-timeout", "Database busy"),
    infra.PoolSaturated: (503, "pool-saturated", "Database busy"),
    infra.QueryTimeout: (503, "query-timeout", "Database too slow"),
    infra.DatabaseUnavailable: (503, "database-unavailable", "Database unavailable"),
    infra.CommitOutcomeUnknown: (503, "commit-outcome-unknown", "Outcome unknown, retry"),
    infra.ConsistencyUnavailable: (503, "consistency-unavailable", "No server caught up"),
    # Still failing after the command runner's retries: a transient conflict, so retryable.
    infra.TransientConflict: (503, "transient-conflict", "Busy, try again"),
    # A value the schema let through but PostgreSQL cannot represent: still bad input.
    infra.InvalidValue: (422, "invalid-value", "Value out of range"),
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    request_id: str | None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_id,
        **extra,
    }
    response = web.Response(
        status=status,
        # Validation messages of list items are keyed by index: allow non-str keys.
        body=orjson.dumps(body, default=str, option=orjson.OPT_NON_STR_KEYS),
        content_type=CONTENT_TYPE,
        headers=headers,
    )
    response[PROBLEM_TYPE] = slug  # for the request event and http_problems_total
    return response


def known(exc: Exception, request_id: str | None) -> web.Response:
    """The problem for an error the table is known to map."""
    response = from_exception(exc, request_id)
    assert response is not None, f"{type(exc).__name__} is not in the problem table"
    return response


def from_exception(exc: Exception, request_id: str | None) -> web.Response | None:
    """The problem for a known error, or None for an unexpected one."""
    for cls in type(exc).__mro__:
        entry = _DOMAIN_TABLE.get(cls)
        if entry is not None:
            status, slug, title = entry
            return problem(
                status, slug, title, _detail(exc), request_id, _headers(exc), **_extra(exc)
            )
    return None


_DETAILS: dict[type[Exception], str] = {
    idempotency.InFlight: "a request with this Idempotency-Key is still being processed; retry later",
    idempotency.KeyReused: "this Idempotency-Key was used with a different request",
}


def _detail(exc: Exception) -> str:
    return _DETAILS.get(type(exc)) or str(getattr(exc, "detail", None) or exc)


def _headers(exc: Exception) -> dict[str, str] | None:
    if isinstance(
        exc,
        infra.DatabaseUnavailable
        | infra.TransientConflict
        | RateLimited
        | Overloaded
        | RequestTimeout,
    ):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, idempotency.InFlight):
        return {"Retry-After": "1"}
    if isinstance(exc, domain.AuthenticationFailed):
        return {"WWW-Authenticate": 'Bearer realm="sales-api"'}
    return None


def _extra(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, domain.InsufficientStock):
        return {"shortages": exc.shortages}
    if isinstance(exc, domain.UnknownReferences):
        return {"errors": exc.missing}
    if isinstance(exc, domain.InvalidInput | UnknownParameters):
        return {"errors": exc.errors}
    return {}
