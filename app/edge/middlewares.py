"""The outer middlewares: request context and the request event, then errors as problems.

The order of all middlewares is set in app/runtime/web_app.py; the tenant and authentication
ones are in app/edge/identity.py, admission in app/edge/admission.py.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import structlog
from aiohttp import web

from app.edge import problems
from app.edge.json_io import BadRequest, UnsupportedMediaType
from app.edge.keys import CONFIG, REQUEST_ID
from app.edge.routing import resolve_route, route_template
from app.edge.types import Handler
from infrastructure.db.stats import begin_request

log = structlog.get_logger("app.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_HTTP_TYPES = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    resolve_route(request)
    stats = begin_request()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    response = await handler(request)  # `errors` below turns every failure into a response
    duration = time.perf_counter() - started
    response.headers["X-Request-ID"] = request_id
    response.headers["Server-Timing"] = (
        f"db;dur={stats.hold_s * 1000:.2f}, pool;dur={stats.wait_s * 1000:.2f}, "
        f"app;dur={duration * 1000:.2f}"
    )
    log.info(
        "request",
        method=request.method,
        route=route_template(request),
        status=response.status,
        duration_ms=round(duration * 1000, 2),
        db_round_trips=stats.round_trips,
        db_hold_ms=round(stats.hold_s * 1000, 3),
        pool_wait_ms=round(stats.wait_s * 1000, 3),
        auth_cache=stats.auth_cache,
    )
    return response


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.get(REQUEST_ID)
    try:
        async with asyncio.timeout(request.app[CONFIG].request_timeout):
            return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _http_problem(exc, request_id)
    except BadRequest as exc:
        return problems.problem(400, "malformed-json", "Malformed JSON", str(exc), request_id)
    except UnsupportedMediaType as exc:
        return problems.problem(
            415, "unsupported-media-type", "Unsupported media type", str(exc), request_id
        )
    except ConnectionResetError:
        # The client went away while we read its body: nothing to answer, nothing went wrong
        # on our side, and nothing was written (commands read the body before the UoW opens).
        log.info("client_disconnected")
        return problems.problem(
            400,
            "client-disconnected",
            "Client disconnected",
            "the client closed the connection",
            request_id,
        )
    except TimeoutError:
        log.warning("request_timeout")
        return problems.problem(
            503,
            "request-timeout",
            "Request took too long",
            "the request did not finish within the deadline; it was rolled back",
            request_id,
            {"Retry-After": "1"},
        )
    except Exception as exc:
        known = problems.from_exception(exc, request_id)
        if known is not None:
            return known
        log.exception("unhandled_error")
        return problems.problem(
            500, "internal-error", "Internal error", "an unexpected error occurred", request_id
        )


def _http_problem(exc: web.HTTPException, request_id: str | None) -> web.Response:
    slug, title = _HTTP_TYPES.get(exc.status, ("http-error", exc.reason))
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    detail = exc.text if exc.text and not exc.text.startswith(f"{exc.status}:") else exc.reason
    return problems.problem(exc.status, slug, title, detail, request_id, headers)
