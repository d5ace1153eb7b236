"""The bad-input matrix over HTTP: every refusal is a problem+json with the request's id.

The `client` fixture asserts at teardown that the pool is idle, so each of these also checks
that a refused request leaves no connection checked out.
"""

from __future__ import annotations

import base64
import re
import uuid

import pytest

from tests.conftest import auth_headers

CUSTOMERS = "/api/sales/customers"
LOGIN = "/api/sales/auth/login"
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def headers(tenant, seeder):
    return auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))


async def assert_problem(resp, status, type_slug=None):
    """The common shape of every refusal; returns the body for further checks."""
    assert resp.status == status, await resp.text()
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    body = await resp.json(content_type=None)
    assert {"type", "title", "status", "detail", "request_id"} <= body.keys(), body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == resp.headers["X-Request-ID"]
    if type_slug is not None:
        assert body["type"].endswith("/" + type_slug), body["type"]
    return body


def cursor_of(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# ---- bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"name": "Ada",}', b"", b"not json", b"\xff\xfe{}"],
    ids=["unclosed", "trailing-comma", "empty", "bare-words", "not-utf8"],
)
async def test_malformed_json_is_400(client, headers, body):
    resp = await client.post(
        CUSTOMERS, data=body, headers={**headers, "Content-Type": "application/json"}
    )
    await assert_problem(resp, 400, "malformed-json")


async def test_malformed_json_on_login_is_400(client, tenant):
    resp = await client.post(
        LOGIN,
        data=b'{"email": ',
        headers={"X-Tenant": tenant.slug, "Content-Type": "application/json"},
    )
    await assert_problem(resp, 400, "malformed-json")


async def test_body_over_the_limit_is_413(make_client, tenant, seeder):
    client = await make_client(max_body_bytes=2048)
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    body = {"name": "x" * 4096, "email": "big@example.test"}
    resp = await client.post(CUSTOMERS, json=body, headers=headers)
    await assert_problem(resp, 413, "payload-too-large")
    assert seeder.count(tenant, "customers", "email = %s", ("big@example.test",)) == 0


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", None],
    ids=["text", "form", "xml", "none"],
)
async def test_non_json_content_type_is_415(client, headers, content_type):
    request_headers = dict(headers)
    if content_type is not None:
        request_headers["Content-Type"] = content_type
    body = b'{"name": "Ada", "email": "ada@example.test"}'
    resp = await client.post(CUSTOMERS, data=body, headers=request_headers)
    await assert_problem(resp, 415, "unsupported-media-type")


# ---- schema violations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"name", "email"}),
        ({"name": "", "email": "ada@example.test"}, {"name"}),
        ({"name": "Ada", "email": "not-an-email"}, {"email"}),
        ({"name": 5, "email": ["ada@example.test"], "phone": 7}, {"name", "email", "phone"}),
        ({"name": "x" * 201, "email": "ada@example.test", "phone": ""}, {"name", "phone"}),
        ({"name": "Ada", "email": "ada@example.test", "nickname": "A"}, {"nickname"}),
    ],
    ids=["missing", "empty-name", "bad-email", "wrong-types", "too-long-and-empty", "unknown"],
)
async def test_schema_violations_on_create_are_422_naming_the_fields(client, headers, body, fields):
    resp = await client.post(CUSTOMERS, json=body, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == fields


async def test_id_and_tenant_id_in_a_create_body_are_refused_as_unknown(
    client, headers, tenant, other_tenant, seeder
):
    body = {
        "id": str(uuid.uuid4()),
        "tenant_id": str(other_tenant.id),
        "name": "Sneaky",
        "email": "sneaky@example.test",
    }
    resp = await client.post(CUSTOMERS, json=body, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"id", "tenant_id"}
    for who in (tenant, other_tenant):
        assert seeder.count(who, "customers", "email = %s", ("sneaky@example.test",)) == 0


async def test_id_and_tenant_id_in_a_patch_body_are_refused_as_unknown(
    client, headers, tenant, seeder
):
    customer_id = seeder.customer(tenant, name="Unchanged")
    body = {"id": str(uuid.uuid4()), "tenant_id": str(uuid.uuid4()), "name": "Changed"}
    resp = await client.patch(f"{CUSTOMERS}/{customer_id}", json=body, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"id", "tenant_id"}
    assert seeder.count(tenant, "customers", "id = %s and name = 'Unchanged'", (customer_id,)) == 1


@pytest.mark.parametrize("body", [b"[]", b"[1, 2]", b'"ada"', b"42", b"null"], ids=bytes.decode)
async def test_json_that_is_not_an_object_is_422(client, headers, body):
    resp = await client.post(
        CUSTOMERS, data=body, headers={**headers, "Content-Type": "application/json"}
    )
    problem = await assert_problem(resp, 422, "validation-error")
    assert problem["errors"]


async def test_login_without_email_or_password_is_422_naming_both(client, tenant):
    resp = await client.post(LOGIN, json={}, headers={"X-Tenant": tenant.slug})
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"email", "password"}


# PostgreSQL text cannot hold NUL and psycopg2 refuses it with a plain ValueError: without the
# check in app.http.load this was a 500 with a traceback, on the public login route too.
@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", CUSTOMERS, {"name": "A\x00da", "email": "nul@example.test"}, "name"),
        (
            "POST",
            CUSTOMERS,
            {"name": "Ada", "email": "nul@example.test", "phone": "1\x002"},
            "phone",
        ),
        ("POST", LOGIN, {"email": "nul\x00@example.test", "password": "pw"}, "email"),
    ],
    ids=["create-name", "create-phone", "login-email"],
)
async def test_a_nul_character_in_a_string_field_is_422_not_500(
    client, headers, method, path, body, field
):
    resp = await client.request(method, path, json=body, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert field in problem["errors"]


async def test_a_nul_character_in_the_search_query_is_422_not_500(client, headers):
    # The same NUL check, through ?q= on the list.
    resp = await client.get(CUSTOMERS, params={"q": "a\x00b"}, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"q"}


# ---- query strings ---------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1.5", ""], ids=repr)
async def test_invalid_limit_is_422(client, headers, limit):
    resp = await client.get(CUSTOMERS, params={"limit": limit}, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"limit"}


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("garbage", id="word"),
        pytest.param("!!!!", id="punctuation"),
        pytest.param("é", id="non-ascii"),
        pytest.param("x" * 201, id="too-long"),
        pytest.param(cursor_of("null"), id="null"),
        pytest.param(cursor_of('{"a": 1}'), id="object"),
        pytest.param(cursor_of("[1, 2]"), id="numbers"),
        pytest.param(cursor_of('["yesterday", "not-a-uuid"]'), id="bad-values"),
        pytest.param(cursor_of('["2024-01-01T00:00:00+00:00"]'), id="one-value"),
    ],
)
async def test_garbage_cursor_is_422(client, headers, cursor):
    resp = await client.get(CUSTOMERS, params={"cursor": cursor}, headers=headers)
    problem = await assert_problem(resp, 422, "validation-error")
    assert set(problem["errors"]) == {"cursor"}


# ---- routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/api/sales/nope", "/api/sales/customers/x/y"])
async def test_unknown_route_is_404(client, headers, path):
    resp = await client.get(path, headers=headers)
    await assert_problem(resp, 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", CUSTOMERS, {"GET", "HEAD", "POST"}),
        ("DELETE", CUSTOMERS, {"GET", "HEAD", "POST"}),
        ("POST", f"{CUSTOMERS}/{uuid.uuid4()}", {"GET", "HEAD", "PATCH", "DELETE"}),
        ("GET", LOGIN, {"POST"}),
    ],
    ids=["put-list", "delete-list", "post-item", "get-login"],
)
async def test_wrong_method_is_405_with_an_allow_header(client, headers, method, path, allowed):
    resp = await client.request(method, path, headers=headers)
    await assert_problem(resp, 405, "method-not-allowed")
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == allowed


@pytest.mark.parametrize(
    "customer_id",
    ["123", "not-a-uuid", "0000000-0000-0000-0000-000000000000", f"{uuid.uuid4()}x"],
    ids=["number", "words", "short-group", "trailing-char"],
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_non_uuid_id_in_the_path_is_404(client, headers, method, customer_id):
    resp = await client.request(
        method, f"{CUSTOMERS}/{customer_id}", json={"name": "X"}, headers=headers
    )
    await assert_problem(resp, 404, "not-found")


# ---- request ids -----------------------------------------------------------------------------


async def test_a_sent_request_id_is_echoed_in_the_header_and_the_problem(client, headers):
    resp = await client.get("/api/sales/nope", headers={**headers, "X-Request-ID": "req-42.a:b_c"})
    assert resp.headers["X-Request-ID"] == "req-42.a:b_c"
    body = await assert_problem(resp, 404)
    assert body["request_id"] == "req-42.a:b_c"


async def test_a_sent_request_id_is_echoed_on_success_too(client, headers):
    resp = await client.get(CUSTOMERS, headers={**headers, "X-Request-ID": "ok-1"})
    assert resp.status == 200
    assert resp.headers["X-Request-ID"] == "ok-1"


@pytest.mark.parametrize(
    "sent",
    [None, "", "has spaces in it", "x" * 300, "semi;colon", "<script>"],
    ids=["absent", "empty", "spaces", "300-chars", "semicolon", "markup"],
)
async def test_a_request_id_is_generated_when_absent_or_malformed(client, headers, sent):
    request_headers = dict(headers)
    if sent is not None:
        request_headers["X-Request-ID"] = sent
    resp = await client.post(CUSTOMERS, json={}, headers=request_headers)
    generated = resp.headers["X-Request-ID"]
    assert generated != sent and GENERATED_ID.match(generated)
    body = await assert_problem(resp, 422)
    assert body["request_id"] == generated


async def test_each_request_gets_its_own_generated_id(client, headers):
    first = await client.get("/nope", headers=headers)
    second = await client.get("/nope", headers=headers)
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
