"""Logs are events: one `request` event per request with its context, and never a secret."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
import structlog
from structlog.testing import capture_logs

from app.runtime.logging import configure_logging
from tests.conftest import auth_headers
from tests.support.seeder import PASSWORD

CUSTOMERS = "/api/sales/customers"
LOGIN = "/api/sales/auth/login"


def capture():
    # Request id, tenant and principal are bound through contextvars, not passed to log calls,
    # so the capture has to merge them in the way the configured pipeline does.
    return capture_logs(processors=[structlog.contextvars.merge_contextvars])


def request_events(events):
    return [e for e in events if e["event"] == "request"]


async def test_each_request_logs_exactly_one_request_event_with_its_id(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    with capture() as events:
        responses = [
            await client.get(CUSTOMERS, headers=headers),
            await client.get(f"{CUSTOMERS}/{seeder.customer(tenant)}", headers=headers),
            await client.post(CUSTOMERS, json={}, headers=headers),
            await client.get("/api/sales/nope", headers=headers),
            await client.get(CUSTOMERS, headers={"X-Tenant": tenant.slug}),
        ]
    logged = request_events(events)
    assert [e["request_id"] for e in logged] == [r.headers["X-Request-ID"] for r in responses]
    assert [e["status"] for e in logged] == [200, 200, 422, 404, 401]


async def test_the_request_event_carries_route_template_timing_tenant_and_principal(
    client, tenant, seeder
):
    user = tenant.users["admin"]
    headers = auth_headers(tenant, seeder.session(tenant, user))
    customer_id = seeder.customer(tenant)
    with capture() as events:
        resp = await client.get(f"{CUSTOMERS}/{customer_id}", headers=headers)
    assert resp.status == 200

    (event,) = request_events(events)
    assert event["log_level"] == "info"
    assert event["request_id"] == resp.headers["X-Request-ID"]
    assert event["method"] == "GET"
    assert event["route"] == "/api/sales/customers/{id}"
    assert event["status"] == 200
    assert event["tenant"] == tenant.slug
    assert event["principal"] == f"user:{user.id}"
    assert isinstance(event["db_round_trips"], int) and event["db_round_trips"] >= 2
    for field in ("duration_ms", "db_hold_ms", "pool_wait_ms"):
        assert isinstance(event[field], float) and event[field] >= 0, field


async def test_an_api_key_principal_is_logged_by_key_id_not_by_key(client, tenant, seeder):
    key = seeder.api_key(tenant)
    with capture() as events:
        resp = await client.get("/api/sales/auth/me", headers=auth_headers(tenant, key))
    (event,) = request_events(events)
    assert event["principal"] == f"api-key:{(await resp.json())['api_key_id']}"
    assert key not in repr(events)


async def test_a_sent_request_id_is_the_one_logged(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    with capture() as events:
        await client.get(CUSTOMERS, headers={**headers, "X-Request-ID": "trace-7"})
    (event,) = request_events(events)
    assert event["request_id"] == "trace-7"


async def test_an_unauthenticated_request_has_no_principal(client, tenant):
    with capture() as events:
        login = await client.post(
            LOGIN,
            json={"email": "ghost@example.test", "password": "x"},
            headers={"X-Tenant": tenant.slug},
        )
        anonymous = await client.get(CUSTOMERS, headers={"X-Tenant": tenant.slug})
    assert (login.status, anonymous.status) == (401, 401)
    logged = request_events(events)
    assert len(logged) == 2
    assert all("principal" not in event for event in logged)
    # Login resolved the tenant; the token-less read was refused before any lookup, and still
    # names the tenant the worker's cache knows: an operator sees whose caller was refused.
    assert logged[0]["tenant"] == logged[1]["tenant"] == tenant.slug
    assert logged[1]["db_round_trips"] == 0


async def test_a_token_less_request_for_a_tenant_not_in_the_cache_costs_no_lookup(client):
    with capture() as events:
        resp = await client.get(CUSTOMERS, headers={"X-Tenant": "never-looked-up"})
    (event,) = request_events(events)
    assert resp.status == 401
    assert "tenant" not in event and event["db_round_trips"] == 0


async def test_an_unknown_route_is_logged_without_route_tenant_or_principal(client):
    with capture() as events:
        resp = await client.get("/api/sales/nope")
    (event,) = request_events(events)
    assert event["status"] == resp.status == 404
    assert event["route"] is None
    assert event["path"] == "/api/sales/nope"  # what the client mistyped, to diagnose it
    assert "tenant" not in event and "principal" not in event
    assert event["db_round_trips"] == 0


async def test_the_logged_path_is_the_path_sent_bounded_without_its_query(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    customer = seeder.customer(tenant)
    with capture() as events:
        await client.get(f"{CUSTOMERS}/{customer}?q=secret-search", headers=headers)
        await client.get("/api/sales/" + "x" * 3000)
        await client.get("/api/sales/a%0Ab")
    found, long, encoded = request_events(events)
    assert (found["path"], found["route"]) == (f"{CUSTOMERS}/{customer}", CUSTOMERS + "/{id}")
    assert len(long["path"]) <= 520 and long["path"].endswith("...")
    assert encoded["path"] == "/api/sales/a%0Ab" and "\n" not in encoded["path"]


async def test_context_of_one_request_does_not_leak_into_the_next(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    with capture() as events:
        await client.get(CUSTOMERS, headers=headers)
        await client.get("/healthz")
    authenticated, health = request_events(events)
    assert "principal" in authenticated
    assert "principal" not in health and "tenant" not in health
    assert health["request_id"] != authenticated["request_id"]


async def test_neither_the_password_nor_the_token_appears_in_any_event(client, tenant):
    user = tenant.users["sales"]
    with capture() as events:
        wrong = await client.post(
            LOGIN,
            json={"email": user.email, "password": PASSWORD + "!"},
            headers={"X-Tenant": tenant.slug},
        )
        resp = await client.post(
            LOGIN,
            json={"email": user.email, "password": PASSWORD},
            headers={"X-Tenant": tenant.slug},
        )
        token = (await resp.json())["token"]
        headers = auth_headers(tenant, token)
        await client.get("/api/sales/auth/me", headers=headers)
        await client.get(CUSTOMERS, headers=headers)
        await client.post(CUSTOMERS, json={"name": ""}, headers=headers)
        await client.get("/api/sales/auth/me", headers={"X-Tenant": tenant.slug})  # by cookie
        await client.post("/api/sales/auth/logout", headers=headers)
    assert wrong.status == 401 and resp.status == 200
    assert len(request_events(events)) == 7
    for event in events:
        text = repr(event)
        assert PASSWORD not in text, event
        assert token not in text, event


# ---- the configured JSON pipeline ------------------------------------------------------------


@pytest.fixture
def restore_logging():
    """Undo configure_logging(): structlog defaults, stdlib root handlers, aiohttp's level."""
    root, access = logging.getLogger(), logging.getLogger("aiohttp.access")
    handlers, access_level = root.handlers[:], access.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    access.setLevel(access_level)


# configure_logging() binds the sys.stdout of the moment, and capsys swaps that stream between
# fixture set-up and the test body: so each test configures in its body, not in a fixture.


def test_the_json_renderer_writes_one_parseable_line_per_event(restore_logging, capsys):
    configure_logging("json")
    log = structlog.get_logger("test")
    structlog.contextvars.bind_contextvars(request_id="req-1")
    log.info("first", n=1, amount=Decimal("1.10"))
    log.warning("second", detail="line one\nline two")
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        log.exception("third")

    lines = capsys.readouterr().out.splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["event"] for e in events] == ["first", "second", "third"]
    assert [e["level"] for e in events] == ["info", "warning", "error"]
    assert all(e["request_id"] == "req-1" and e["timestamp"] for e in events)
    assert "1.10" in events[0]["amount"]
    assert events[1]["detail"] == "line one\nline two"
    assert "ZeroDivisionError" in events[2]["exception"]


def test_the_json_renderer_redacts_passwords_and_other_secret_keys(restore_logging, capsys):
    configure_logging("json")
    structlog.get_logger("test").info(
        "login_attempt", password="hunter2", token="tok-123", authorization="Bearer tok-456"
    )
    out = capsys.readouterr().out
    (event,) = [json.loads(line) for line in out.splitlines()]
    assert event["password"] == event["token"] == event["authorization"] == "[redacted]"
    for secret in ("hunter2", "tok-123", "tok-456"):
        assert secret not in out


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_a_callers_traceparent_is_continued_in_the_answer_and_every_log_line(
    client, tenant, seeder
):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    headers["traceparent"] = f"00-{TRACE}-00f067aa0ba902b7-01"
    with capture() as events:
        resp = await client.post(
            CUSTOMERS, json={"name": "Traced", "email": "traced@example.test"}, headers=headers
        )
    assert resp.status == 201
    version, trace_id, span_id, flags = resp.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE, "01")
    assert span_id != "00f067aa0ba902b7"
    # The request's lines (a background task, such as the listener, may log meanwhile).
    ours = [e for e in events if e.get("request_id") == resp.headers["X-Request-ID"]]
    assert "request" in [e["event"] for e in ours]
    assert all(e.get("trace_id") == TRACE and e.get("span_id") == span_id for e in ours), ours


async def test_a_request_without_traceparent_starts_a_trace_of_its_own(client):
    with capture() as events:
        first = await client.get("/healthz")
        second = await client.get("/healthz", headers={"traceparent": "not-a-traceparent"})
    ids = [r.headers["traceparent"].split("-")[1] for r in (first, second)]
    assert ids[0] != ids[1] and ids[0] != "0" * 32
    assert [e["trace_id"] for e in request_events(events)] == ids
