"""Spans for OpenTelemetry, when an OTLP endpoint is configured; nothing at all otherwise.

`start_tracing(...)` (called once per process by the composition root, after the fork under
gunicorn: the SDK's export thread must belong to the worker) installs an SDK tracer exporting
over OTLP/HTTP. Until then, and whenever tracing is off, `span(...)` hands back one shared
no-op context manager: the hot path pays a function call, no allocation and no context
switch. Spans nest through contextvars (OpenTelemetry's own context), so a statement's span
is a child of the pool checkout's, which is a child of the request's server span.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context

_NOOP: AbstractContextManager[None] = contextlib.nullcontext()
_tracer: trace.Tracer | None = None
_provider: Any = None  # the SDK's TracerProvider, kept to flush it at shutdown


def enabled() -> bool:
    return _tracer is not None


def start_tracing(service_name: str, version: str) -> None:
    """The SDK with a batching OTLP/HTTP exporter. The exporter reads the standard
    OTEL_EXPORTER_OTLP_* variables itself (endpoint, headers, timeout)."""
    global _tracer, _provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": service_name, "service.version": version})
    _provider = TracerProvider(resource=resource)
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _tracer = _provider.get_tracer("sales-api", version)


def stop_tracing() -> None:
    """Export what is still buffered, then stop (at shutdown)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def span(name: str, attributes: Mapping[str, Any] | None = None) -> AbstractContextManager[Any]:
    """A child span of the current one while tracing is on; the shared no-op otherwise."""
    if _tracer is None:
        return _NOOP
    return _tracer.start_as_current_span(name, attributes=attributes)


@contextlib.contextmanager
def server_span(
    name: str, parent: Context | None, attributes: Mapping[str, Any]
) -> Iterator[trace.Span]:
    """The request's own span, continuing the caller's trace when `parent` carries one."""
    assert _tracer is not None, "server_span is only called while tracing is on"
    with _tracer.start_as_current_span(
        name, context=parent, kind=trace.SpanKind.SERVER, attributes=attributes
    ) as current:
        yield current


def annotate(**attributes: Any) -> None:
    """Attributes on the current span (a replica's choice, say); nothing while tracing is off."""
    if _tracer is not None:
        trace.get_current_span().set_attributes(attributes)
