"""W3C Trace Context at the edge: continue the caller's trace, answer with our span.

Every request belongs to a trace: the caller's, when it sends a valid `traceparent`, else a
new one. The response carries `traceparent` naming this service's span, and every log line
of the request carries `trace_id` and `span_id` (bound with the request id). With an OTLP
endpoint configured (infrastructure/tracing.py) the span is a real OpenTelemetry server span,
`tracestate` included, exported with its children; without one, the ids are made here and
nothing else happens, which costs a regular expression and a random number per request.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from aiohttp import web
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from app.edge.routing import route_template
from infrastructure import tracing

TRACEPARENT = "traceparent"
# version-trace_id-parent_id-flags; a future version may append fields (W3C Trace Context 1,
# "Versioning of traceparent"), version 00 may not, and ff is invalid.
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16
_propagator = TraceContextTextMapPropagator()


@dataclass(slots=True)
class TraceIds:
    trace_id: str
    span_id: str
    flags: str

    @property
    def header(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


def parse(header: str | None) -> tuple[str, str] | None:
    """(trace id, flags) of a valid traceparent, else None (start a new trace)."""
    found = _TRACEPARENT.match(header.strip()) if header else None
    if found is None:
        return None
    version, trace_id, parent_id, flags, rest = found.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return trace_id, flags


@asynccontextmanager
async def traced(request: web.Request) -> AsyncIterator[TraceIds]:
    """The request's trace ids, bound to its log lines; a server span around it when on."""
    if not tracing.enabled():
        ids = _own_ids(request.headers.get(TRACEPARENT))
        structlog.contextvars.bind_contextvars(trace_id=ids.trace_id, span_id=ids.span_id)
        yield ids
        return
    parent = _propagator.extract(carrier=request.headers)
    name = f"{request.method} {route_template(request) or 'unknown route'}"
    attributes = {
        "http.request.method": request.method,
        "url.path": request.rel_url.raw_path,
        "http.route": route_template(request) or "",
    }
    with tracing.server_span(name, parent, attributes) as span:
        context = span.get_span_context()
        ids = TraceIds(
            f"{context.trace_id:032x}", f"{context.span_id:016x}", f"{context.trace_flags:02x}"
        )
        structlog.contextvars.bind_contextvars(trace_id=ids.trace_id, span_id=ids.span_id)
        yield ids


def finish(ids: TraceIds, response: web.StreamResponse) -> None:
    response.headers[TRACEPARENT] = ids.header
    if tracing.enabled():
        tracing.annotate(**{"http.response.status_code": response.status})


def _own_ids(header: str | None) -> TraceIds:
    incoming = parse(header)
    span_id = f"{random.getrandbits(64) or 1:016x}"
    if incoming is None:
        # A trace we start and do not record: not sampled, as far as anyone downstream knows.
        return TraceIds(f"{random.getrandbits(128) or 1:032x}", span_id, "00")
    trace_id, flags = incoming
    return TraceIds(trace_id, span_id, flags)
