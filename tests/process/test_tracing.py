"""OpenTelemetry export: with OTEL_EXPORTER_OTLP_ENDPOINT set, the service sends its spans
over OTLP/HTTP to a real receiver (here, an aiohttp server on a free loopback port that
decodes what arrives with opentelemetry-proto): one server span per request continuing the
caller's trace, and children for admission, pool checkout and each statement."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.support.server import free_port, serving

pytestmark = pytest.mark.slow

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@asynccontextmanager
async def otlp_receiver() -> AsyncIterator[tuple[str, list, asyncio.Condition]]:
    """An OTLP/HTTP (protobuf) trace endpoint; yields its base URL, the spans received and
    a condition notified on each export."""
    spans: list = []
    arrived = asyncio.Condition()

    async def export(request: web.Request) -> web.Response:
        message = ExportTraceServiceRequest.FromString(await request.read())
        for resource in message.resource_spans:
            for scope in resource.scope_spans:
                spans.extend(scope.spans)
        async with arrived:
            arrived.notify_all()
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(),
            content_type="application/x-protobuf",
        )

    app = web.Application()
    app.router.add_post("/v1/traces", export)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", spans, arrived
    finally:
        await runner.cleanup()


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, dict(resp.headers)


async def test_spans_reach_an_otlp_receiver_with_the_callers_trace_and_the_right_parents(
    tmp_path, seeder
):
    tenant = seeder.tenant("traced")
    token = seeder.session(tenant, tenant.users["admin"])
    async with otlp_receiver() as (endpoint, spans, arrived):
        settings = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # export every 100 ms, not every 5 s
        }
        with serving(settings, tmp_path / "service.log") as service:
            headers = {
                "X-Tenant": tenant.slug,
                "Authorization": f"Bearer {token}",
                "traceparent": f"00-{TRACE}-{CALLER_SPAN}-01",
            }
            status, answer = await asyncio.to_thread(
                _get, service.base + "/api/sales/customers?limit=2", headers
            )
            assert status == 200
            ours = answer["traceparent"].split("-")[2]
            async with arrived:
                await asyncio.wait_for(arrived.wait_for(lambda: _server_span(spans, ours)), 20)

    server = _server_span(spans, ours)
    assert server is not None, f"no server span {ours} among {len(spans)} received"
    assert server.trace_id.hex() == TRACE
    assert server.parent_span_id.hex() == CALLER_SPAN
    assert server.name == "GET /api/sales/customers"
    children = [s for s in spans if s.parent_span_id == server.span_id]
    names = [s.name for s in children]
    assert "admission.wait" in names and "db.pool.acquire" in names, names
    texts = [_attribute(s, "db.statement") for s in children if s.name == "db.statement"]
    assert any("%(tenant_id)s" in text for text in texts), texts  # the tenant-scoped read
    for text in texts:  # the text the driver binds values into, never the values
        assert str(tenant.id) not in text and tenant.slug not in text and token not in text


def _server_span(spans: list, span_id: str):
    return next((s for s in spans if s.span_id.hex() == span_id), None)


def _attribute(span, key: str) -> str:
    for attribute in span.attributes:
        if attribute.key == key:
            return attribute.value.string_value
    raise AssertionError(f"{span.name} has no {key}")
