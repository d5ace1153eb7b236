"""The cross-cutting middlewares: request context and the request event, errors as problems.

Their order is set in app/runtime/web_app.py; inside them, each route's stages run in the
pipeline (app/edge/pipeline.py).
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from app.edge import parser_errors, problems
from app.edge.keys import (
    CACHE_OUTCOME,
    CONFIG,
    CREATED_ID,
    IN_FLIGHT,
    PROBLEM_TYPE,
    RECEIVING,
    REJECTED,
    REPLAYED,
    REQUEST_ID,
    ROUTE,
    STOPWATCH,
)
from app.edge.pipeline import BodyTimeout
from app.edge.problems import RequestTimeout
from app.edge.routing import resolve_route, route_template
from app.edge.trace_context import finish as finish_trace
from app.edge.trace_context import traced
from app.edge.types import Handler
from infrastructure.db.stats import DbStats, begin_request

log = structlog.get_logger("app.request")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_HTTP_TYPES = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


class InFlight:
    """Requests this worker has started and not yet answered, for the stop event's count of
    requests drained (app/runtime/web_app.py)."""

    def __init__(self) -> None:
        self.now = 0
        self.served = 0
        self.cancelled = 0
        self.at_stop = 0  # in flight when the worker stopped accepting


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    in_flight = request.app[IN_FLIGHT]
    in_flight.now += 1
    try:
        response = await _in_context(request, handler)
    except asyncio.CancelledError:
        in_flight.cancelled += 1
        raise
    finally:
        in_flight.now -= 1
    in_flight.served += 1
    return response


async def _in_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    resolve_route(request)
    stats = begin_request()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    async with traced(request) as trace_ids:
        response = await handler(request)  # `errors` below turns every failure into a response
        finish_trace(trace_ids, response)
    duration = time.perf_counter() - started
    response.headers["X-Request-ID"] = request_id
    response.headers["Server-Timing"] = _server_timing(request, stats, duration)
    # A request the parser refused is worth a warning (issue 19); everything else is info.
    (log.warning if REJECTED in response else log.info)(
        "request",
        method=request.method,
        path=loggable_path(request),
        route=route_template(request),
        status=response.status,
        duration_ms=round(duration * 1000, 2),
        db_round_trips=stats.round_trips,
        db_hold_ms=round(stats.hold_s * 1000, 3),
        pool_wait_ms=round(stats.wait_s * 1000, 3),
        client=request.remote,
        auth_cache=stats.auth_cache,
        # Only when they apply, so an ordinary request's event stays short.
        **_outcome(response),
    )
    return response


def _server_timing(request: web.Request, stats: DbStats, duration: float) -> str:
    """Database hold and pool wait, each pipeline stage that ran, and the whole request."""
    watch = request.get(STOPWATCH)
    stages = "".join(f"{name};dur={s * 1000:.2f}, " for name, s in watch.stages) if watch else ""
    return (
        f"db;dur={stats.hold_s * 1000:.2f}, pool;dur={stats.wait_s * 1000:.2f}, "
        f"{stages}app;dur={duration * 1000:.2f}"
    )


_MAX_PATH = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def loggable_path(request: web.Request) -> str:
    """The path as sent (percent-encoded, no query string: queries may carry search terms),
    bounded and with control characters escaped, so one request is one log line."""
    path = request.rel_url.raw_path
    if len(path) > _MAX_PATH:
        path = path[:_MAX_PATH] + "..."
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)


def _outcome(response: web.StreamResponse) -> dict[str, object]:
    outcome: dict[str, object] = {}
    if (problem := response.get(PROBLEM_TYPE)) is not None:
        outcome["problem"] = problem
    if response.get(REPLAYED):
        outcome["replayed"] = True
    if (created := response.get(CREATED_ID)) is not None:
        outcome["created_id"] = created
    if (rejected := response.get(REJECTED)) is not None:
        outcome["reason"] = rejected
    if (cache := response.get(CACHE_OUTCOME)) is not None:
        outcome["cache"] = cache  # a versioned read: hit, not_modified, miss or bypass
    return outcome


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = request.get(REQUEST_ID)
    try:
        route = request.get(ROUTE)
        allowance = route.long_poll if route is not None else 0.0
        async with asyncio.timeout(request.app[CONFIG].request_timeout + allowance):
            return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _http_problem(exc, request_id)
    except RequestPayloadError as exc:
        return parser_errors.body_rejected(request, exc)  # issue 19
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
        if request.get(RECEIVING):
            log.info("body_timeout")  # the client's problem: nothing of ours was slow
            return problems.known(BodyTimeout(), request_id)
        log.warning("request_timeout")
        return problems.known(RequestTimeout(), request_id)
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
