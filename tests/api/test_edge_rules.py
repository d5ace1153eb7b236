"""The edge's rules for who may send what: auth before the body, slow bodies, CSRF, HEAD, headers.

Issue 10, defects 6, 9 and 11: each test here failed before the fix.
"""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from app.api.routes import ROUTES
from app.edge.keys import HTTP_METRICS
from app.edge.rules import Access
from tests.conftest import auth_headers
from tests.support.sales import assert_problem, headers_for
from tests.support.seeder import PASSWORD

API = "/api/sales"
CUSTOMERS = f"{API}/customers"


# ---- authenticate before reading the body ----------------------------------------------------


async def test_a_bad_token_with_an_oversized_body_is_401_not_413(make_client, tenant):
    client = await make_client(max_body_bytes=2048)
    headers = {"X-Tenant": tenant.slug, "Authorization": "Bearer " + "x" * 40}
    body = {"name": "x" * 10_000, "email": "big@example.test"}
    resp = await client.post(CUSTOMERS, json=body, headers=headers)
    await assert_problem(resp, 401, "unauthenticated")


async def test_a_good_token_with_an_oversized_body_is_still_413(make_client, tenant, seeder):
    client = await make_client(max_body_bytes=2048)
    body = {"name": "x" * 10_000, "email": "big@example.test"}
    resp = await client.post(CUSTOMERS, json=body, headers=headers_for(seeder, tenant))
    await assert_problem(resp, 413, "payload-too-large")


async def _stall_mid_body(client, headers: dict[str, str]) -> bytes:
    """Send the headers and 1 byte of a 100-byte body, then nothing; return the answer."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(
            (
                f"POST {CUSTOMERS} HTTP/1.1\r\nHost: test\r\n{head}"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            ).encode()
        )
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), timeout=10)
    finally:
        writer.close()


async def test_a_body_not_sent_within_the_deadline_is_408_counted_as_a_client_problem(
    make_client, tenant, seeder
):
    client = await make_client(request_timeout=0.5)
    with capture_logs() as events:
        answer = await _stall_mid_body(client, headers_for(seeder, tenant))
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), answer
    assert b"/problems/body-timeout" in rest
    kinds = {e["event"]: e["log_level"] for e in events}
    assert kinds.get("body_timeout") == "info", events
    assert "request_timeout" not in kinds
    metrics = client.app[HTTP_METRICS].requests
    assert metrics.labels("POST", CUSTOMERS, "408")._value.get() == 1


async def test_a_stalled_body_with_a_bad_token_is_401_at_once(make_client, tenant):
    client = await make_client(request_timeout=5.0)
    headers = {"X-Tenant": tenant.slug, "Authorization": "Bearer " + "x" * 40}
    answer = await _stall_mid_body(client, headers)
    assert answer.startswith(b"HTTP/1.1 401"), answer


# ---- CSRF: Fetch Metadata on cookie-authenticated commands -------------------------------------


async def _cookie_client(make_client, tenant):
    client = await make_client()
    email = tenant.users["admin"].email
    resp = await client.post(
        f"{API}/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-Tenant": tenant.slug},
    )
    assert resp.status == 200
    return client


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none"])
async def test_a_browsers_cookie_command_from_another_site_is_403_and_does_nothing(
    make_client, tenant, site
):
    client = await _cookie_client(make_client, tenant)
    headers = {"X-Tenant": tenant.slug, "Sec-Fetch-Site": site}
    resp = await client.post(f"{API}/auth/logout", headers=headers)
    await assert_problem(resp, 403, "cross-site-request")
    me = await client.get(f"{API}/auth/me", headers={"X-Tenant": tenant.slug})
    assert me.status == 200, "the forged logout did nothing"


@pytest.mark.parametrize("site", [None, "same-origin"])
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json"])
async def test_a_cookie_command_from_this_site_or_no_browser_works_with_any_or_no_content_type(
    make_client, tenant, site, content_type
):
    client = await _cookie_client(make_client, tenant)
    headers = {"X-Tenant": tenant.slug}
    if site:
        headers["Sec-Fetch-Site"] = site
    if content_type:
        headers["Content-Type"] = content_type
    resp = await client.post(f"{API}/auth/logout", headers=headers)
    assert resp.status == 204


async def test_a_bearer_command_is_not_judged_by_fetch_metadata(client, tenant, seeder):
    # Only the cookie is sent by a browser on its own: a bearer token was put there by code.
    headers = headers_for(seeder, tenant) | {"Sec-Fetch-Site": "cross-site"}
    resp = await client.post(f"{API}/auth/logout", headers=headers)
    assert resp.status == 204


async def test_a_bearer_command_without_a_body_needs_no_content_type(client, tenant, seeder):
    resp = await client.post(f"{API}/auth/logout", headers=headers_for(seeder, tenant))
    assert resp.status == 204


# ---- HEAD, Cache-Control, Server -------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [r.path for r in ROUTES if r.access is Access.OPEN and r.method == "GET"]
)
async def test_head_on_open_routes_answers_like_get_without_a_body(client, path):
    get = await client.get(path)
    head = await client.head(path)
    assert head.status == get.status == 200
    assert await head.read() == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


async def test_head_on_an_api_read_needs_credentials_like_get(client, tenant, seeder):
    assert (await client.head(CUSTOMERS, headers={"X-Tenant": tenant.slug})).status == 401
    resp = await client.head(CUSTOMERS, headers=headers_for(seeder, tenant))
    assert resp.status == 200
    assert await resp.read() == b""


async def test_auth_responses_are_not_stored(client, tenant, seeder):
    email = tenant.users["admin"].email
    login = await client.post(
        f"{API}/auth/login",
        json={"email": email, "password": PASSWORD},
        headers={"X-Tenant": tenant.slug},
    )
    me = await client.get(f"{API}/auth/me", headers=headers_for(seeder, tenant))
    assert login.headers["Cache-Control"] == "no-store"
    assert me.headers["Cache-Control"] == "no-store"


async def test_the_server_header_names_no_versions(client, tenant, seeder):
    for resp in (
        await client.get("/healthz"),
        await client.get(CUSTOMERS, headers=auth_headers(tenant, "x" * 40)),
        await client.get("/nope"),
    ):
        assert resp.headers["Server"] == "sales-api"
