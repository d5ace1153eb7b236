"""RFC 9457 problem+json responses, and the one table mapping domain errors to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from app.edge.admission import Overloaded
from app.edge.hostile_headers import DuplicateHeader
from app.edge.identity import TenantMismatch
from app.edge.json_io import BadRequest, TooDeep, UnknownParameters, UnsupportedMediaType
from app.edge.keys import PROBLEM_TYPE
from app.edge.pipeline import BodyTimeout, CrossSiteRequest
from app.edge.ratelimit import RateLimited
from domain import errors as domain
from infrastructure import idempotency
from infrastructure.db import errors as infra
from infrastructure.db.replicas.consistency import InvalidConsistencyToken
from infrastructure.webhooks.secrets import WebhooksNotConfigured


class RequestTimeout(Exception):
    """The request passed REQUEST_TIMEOUT; whatever it did was rolled back (503, retryable)."""

    retry_after = 1
    detail = "the request did not finish within the deadline; it was rolled back"


PROBLEM_BASE = "https://sales-api.example/problems/"
CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Family:
    """Everything a kind of error answers with: status, type, title, and where its detail,
    headers and extra members come from."""

    status: int
    slug: str
    title: str
    detail: str | None = None  # else the exception's `detail`, else its message
    headers: Callable[[Any], dict[str, str]] | None = None
    members: Callable[[Any], dict[str, Any]] | None = None


def _retry_after(exc: Any) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


def _errors(exc: Any) -> dict[str, Any]:
    return {"errors": exc.errors}


_BEARER = {"WWW-Authenticate": 'Bearer realm="sales-api"'}

# The one table: an error class's family, looked up along the MRO, most specific first.
FAMILIES: dict[type[Exception], Family] = {
    domain.UnknownTenant: Family(404, "unknown-tenant", "Unknown tenant"),
    domain.NotFound: Family(404, "not-found", "Not found"),
    domain.AuthenticationFailed: Family(
        401, "unauthenticated", "Authentication required", headers=lambda _: _BEARER
    ),
    domain.PermissionDenied: Family(403, "forbidden", "Not allowed"),
    domain.UnknownReferences: Family(
        422, "unknown-reference", "Unknown reference", members=lambda e: {"errors": e.missing}
    ),
    domain.InsufficientStock: Family(
        409,
        "insufficient-stock",
        "Insufficient stock",
        members=lambda e: {"shortages": e.shortages},
    ),
    domain.InvalidTransition: Family(409, "invalid-transition", "Invalid state transition"),
    domain.AlreadyPaid: Family(
        409,
        "already-paid",
        "Invoice already paid",
        members=lambda e: {"recorded_payment": e.recorded},
    ),
    domain.Conflict: Family(409, "conflict", "Conflict"),
    domain.InvalidInput: Family(422, "validation-error", "Invalid input", members=_errors),
    domain.CursorExpired: Family(410, "cursor-expired", "Cursor expired"),
    WebhooksNotConfigured: Family(503, "webhooks-not-configured", "Webhooks not configured"),
    idempotency.InFlight: Family(
        409,
        "idempotency-in-flight",
        "Request with this key still running",
        "a request with this Idempotency-Key is still being processed; retry later",
        headers=lambda _: {"Retry-After": "1"},
    ),
    idempotency.KeyReused: Family(
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused with another request",
        "this Idempotency-Key was used with a different request",
    ),
    TooDeep: Family(400, "too-deeply-nested", "Body nested too deeply"),
    BadRequest: Family(400, "malformed-json", "Malformed JSON"),
    UnknownParameters: Family(400, "unknown-parameter", "Unknown query parameter", members=_errors),
    UnsupportedMediaType: Family(415, "unsupported-media-type", "Unsupported media type"),
    TenantMismatch: Family(400, "tenant-mismatch", "API key of another tenant"),
    DuplicateHeader: Family(400, "duplicate-header", "Header sent twice"),
    BodyTimeout: Family(408, "body-timeout", "Request body too slow"),
    CrossSiteRequest: Family(403, "cross-site-request", "Cross-site request refused"),
    InvalidConsistencyToken: Family(400, "invalid-consistency-token", "Invalid Consistency-Token"),
    RateLimited: Family(429, "rate-limited", "Too many requests", headers=_retry_after),
    domain.TooManyLoginAttempts: Family(
        429, "rate-limited", "Too many requests", headers=_retry_after
    ),
    RequestTimeout: Family(503, "request-timeout", "Request took too long", headers=_retry_after),
    Overloaded: Family(503, "overloaded", "Service busy", headers=_retry_after),
    infra.PoolTimeout: Family(503, "pool-timeout", "Database busy", headers=_retry_after),
    infra.PoolSaturated: Family(503, "pool-saturated", "Database busy", headers=_retry_after),
    infra.QueryTimeout: Family(503, "query-timeout", "Database too slow", headers=_retry_after),
    infra.DatabaseUnavailable: Family(
        503, "database-unavailable", "Database unavailable", headers=_retry_after
    ),
    infra.CommitOutcomeUnknown: Family(
        503, "commit-outcome-unknown", "Outcome unknown, retry", headers=_retry_after
    ),
    infra.ConsistencyUnavailable: Family(
        503, "consistency-unavailable", "No server caught up", headers=_retry_after
    ),
    # Still failing after the command runner's retries: a transient conflict, so retryable.
    infra.TransientConflict: Family(
        503, "transient-conflict", "Busy, try again", headers=_retry_after
    ),
    # A value the schema let through but PostgreSQL cannot represent: still bad input.
    infra.InvalidValue: Family(422, "invalid-value", "Value out of range"),
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
        family = FAMILIES.get(cls)
        if family is not None:
            detail = family.detail or str(getattr(exc, "detail", None) or exc)
            headers = family.headers(exc) if family.headers else None
            members = family.members(exc) if family.members else {}
            return problem(
                family.status, family.slug, family.title, detail, request_id, headers, **members
            )
    return None
