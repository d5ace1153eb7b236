"""What the HTTP parser refuses is answered by our edge (issue 19, item 4): problem+json 400,
no echo of the input, no `Server` version, one warning `request` event with a reason, and a
count in `http_parser_rejections_total`."""

from __future__ import annotations

import asyncio

import pytest
import structlog
from structlog.testing import capture_logs

from app.edge.keys import CONTAINER

MARK = "zq9MARKzq9"  # a string that must never come back
SMUGGLED = {
    "duplicate Content-Length": (
        f"POST /api/sales/customers?{MARK} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        f"Content-Length: 4\r\nX-Mark: {MARK}\r\n\r\nabcd"
    ),
    "bad chunking": (
        "POST /api/sales/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        f"Content-Type: application/json\r\n\r\nZZ{MARK}\r\n{{}}\r\n0\r\n\r\n"
    ),
    "over-long header": (f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: {MARK}{'a' * 9000}\r\n\r\n"),
}


async def _raw(host: str, port: int, request: str) -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request.encode())
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), timeout=5)
    finally:
        writer.close()


def _rejections(client) -> float:
    return sum(
        sample.value
        for family in client.app[CONTAINER].registry.collect()
        for sample in family.samples
        if sample.name == "http_parser_rejections_total"
    )


@pytest.mark.parametrize("case", sorted(SMUGGLED))
async def test_a_request_the_parser_refuses_is_a_plain_problem(client, case):
    before = _rejections(client)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        answer = await _raw(client.host, client.port, SMUGGLED[case])
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    assert status_line.split(" ")[1] == "400", answer
    assert headers["content-type"].startswith("application/problem+json")
    assert headers["server"] == "sales-api"
    assert MARK.encode() not in answer
    assert b'"type":"https://sales-api.example/problems/malformed-request"' in body
    warnings = [e for e in events if e["log_level"] in ("warning", "error", "critical")]
    assert [(e["event"], e["log_level"]) for e in warnings] == [("request", "warning")]
    assert warnings[0]["reason"] and MARK not in str(warnings[0])
    assert _rejections(client) == before + 1


async def test_no_answer_of_either_port_names_a_version(client, admin_of):
    admin = await admin_of(client)
    for resp in (await client.get("/healthz"), await admin.get("/livez")):
        assert resp.headers["Server"] == "sales-api"
    answer = await _raw(admin.host, admin.port, SMUGGLED["over-long header"])
    assert b"\r\nServer: sales-api\r\n" in answer and b"aiohttp" not in answer


async def test_bad_chunking_after_the_headers_arrived_is_the_same_problem(client, tenant):
    before = _rejections(client)
    reader, writer = await asyncio.open_connection(client.host, client.port)
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        try:
            writer.write(
                "POST /api/sales/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                f"X-Tenant: {tenant.slug}\r\nContent-Type: application/json\r\n\r\n".encode()
            )
            await writer.drain()
            await asyncio.sleep(0.2)  # the handler is reading the body by now
            writer.write(f"ZZ{MARK}\r\n{{}}\r\n0\r\n\r\n".encode())
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(65536), timeout=5)
        finally:
            writer.close()
    assert answer.split(b" ")[1] == b"400", answer
    assert b"application/problem+json" in answer and b"malformed-request" in answer
    assert MARK.encode() not in answer and b"aiohttp" not in answer
    warnings = [e for e in events if e["log_level"] in ("warning", "error", "critical")]
    assert [(e["event"], e["reason"]) for e in warnings] == [("request", "bad-chunking")]
    assert _rejections(client) == before + 1
