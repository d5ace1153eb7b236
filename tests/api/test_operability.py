"""Metrics, Server-Timing, requests that need no database, login rate limits, OpenAPI in step."""

from __future__ import annotations

import asyncio
import json
import re
from contextlib import AsyncExitStack

from prometheus_client.parser import text_string_to_metric_families

from app.api.routes import ROUTES
from app.edge.keys import CONTAINER
from tests.conftest import assert_pool_idle, auth_headers, until_listening
from tests.support.seeder import PASSWORD


async def scrape(admin) -> dict[tuple[str, tuple], float]:
    text = await (await admin.get("/metrics")).text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_a_scripted_sequence_of_requests(client, admin_of, tenant, seeder):
    await until_listening(client)
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    customer = seeder.customer(tenant)
    for _ in range(3):
        assert (await client.get("/api/sales/customers", headers=headers)).status == 200
    assert (await client.get(f"/api/sales/customers/{customer}", headers=headers)).status == 200
    assert (
        await client.get("/api/sales/customers", headers={"X-Tenant": tenant.slug})
    ).status == 401
    created = await client.post(
        "/api/sales/customers", json={"name": "M", "email": "m@metrics.test"}, headers=headers
    )
    assert created.status == 201

    m = await scrape(await admin_of(client))
    route = "/api/sales/customers"
    assert value(m, "http_requests_total", method="GET", route=route, status="200") == 3
    assert value(m, "http_requests_total", method="GET", route=route, status="401") == 1
    assert value(m, "http_requests_total", method="GET", route=route + "/{id}", status="200") == 1
    assert value(m, "http_requests_total", method="POST", route=route, status="201") == 1
    assert value(m, "http_request_duration_seconds_count", method="GET", route=route) == 4
    # One tenant lookup and one token lookup (both then cached), the list once (its two
    # repeats come from the response cache) and the item; the create's unit of work: begin,
    # insert, commit.
    assert value(m, "db_round_trips_total", kind="read") == 1 + 1 + 1 + 1
    assert value(m, "db_round_trips_total", kind="command") == 3
    assert value(m, "db_connection_hold_seconds_count", kind="read") == 4
    assert value(m, "db_connection_hold_seconds_count", kind="command") == 1
    assert value(m, "uow_commits_total") == 1
    assert value(m, "db_pool_in_use", worker="1") == 0
    assert value(m, "db_pool_max", worker="1") == 5
    assert value(m, "service_db_pool_max") == 5
    assert value(m, "db_pool_timeouts_total") == 0
    assert not any(name == "http_requests_total" and "tenant" in dict(lbl) for name, lbl in m)


async def test_metrics_carry_no_created_series(client, admin_of, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    assert (await client.get("/api/sales/customers", headers=headers)).status == 200
    admin = await admin_of(client)
    text = await (await admin.get("/metrics")).text()
    names = {
        re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group()
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert "http_requests_total" in names  # the counters are there, without a twin
    assert not [name for name in names if name.endswith("_created")]


async def test_the_api_port_does_not_serve_metrics(client):
    # The admin port serves them (docs/operations.md): internals stay off the public port.
    assert (await client.get("/metrics")).status == 404


async def test_every_response_has_server_timing_and_request_id(client, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    resp = await client.get("/api/sales/customers", headers=headers)
    timing = resp.headers["Server-Timing"]
    assert re.search(r"db;dur=\d+\.\d+", timing) and re.search(r"pool;dur=\d+\.\d+", timing)
    assert float(re.search(r"db;dur=(\d+\.\d+)", timing).group(1)) > 0
    health = await client.get("/healthz")
    assert "db;dur=0.00" in health.headers["Server-Timing"]


def timed_stages(response) -> list[str]:
    return re.findall(r"(\w+);dur=\d+\.\d+", response.headers["Server-Timing"])


async def test_server_timing_names_each_stage_of_the_pipeline_in_the_order_they_ran(
    client, tenant, seeder
):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    read = await client.get("/api/sales/customers", headers=headers)
    command = await client.post(
        "/api/sales/customers", json={"name": "T", "email": "t@timing.test"}, headers=headers
    )
    health = await client.get("/healthz")

    assert read.status == 200 and command.status == 201
    db = ["db", "pool"]
    assert timed_stages(read) == [*db, "tenant", "queue", "auth", "parse", "handler", "app"]
    assert timed_stages(command) == [
        *db,
        "tenant",
        "auth",
        "body",
        "queue",
        "parse",
        "handler",
        "app",
    ]
    assert timed_stages(health) == [*db, "parse", "handler", "app"]


async def test_requests_that_need_no_database_answer_while_every_connection_is_held(
    make_client, admin_of, tenant
):
    client = await make_client(db_pool_max=2, db_pool_acquire_timeout=5.0)
    admin = await admin_of(client)
    db = client.app[CONTAINER].db
    async with AsyncExitStack() as held:
        for _ in range(2):
            await held.enter_async_context(db.connection("test"))
        checks = [
            client.get("/healthz"),
            admin.get("/metrics"),
            admin.get("/livez"),
            admin.get("/dashboard"),
            admin.get("/dashboard.json"),
            client.get("/openapi.json"),
            client.get("/no/such/route"),
            client.put("/api/sales/customers", headers={"X-Tenant": tenant.slug}),
            client.get("/api/sales/customers/not-a-uuid", headers={"X-Tenant": tenant.slug}),
            # Malformed tokens are refused before any lookup.
            client.get(
                "/api/sales/auth/me",
                headers={"X-Tenant": tenant.slug, "Authorization": "Bearer x"},
            ),
        ]
        # Far below the 5 s acquire timeout: none of them waited for a connection.
        responses = await asyncio.wait_for(asyncio.gather(*checks), timeout=2.0)
        assert [r.status for r in responses] == [200, 200, 200, 200, 200, 200, 404, 405, 404, 401]
    # Only the test's own two checkouts ever asked the pool for a connection.
    acquires = next(
        sample.value
        for metric in db.metrics.acquire_wait.collect()
        for sample in metric.samples
        if sample.name.endswith("_count")
    )
    assert acquires == 2


async def test_login_is_rate_limited_per_email_and_address_with_retry_after(make_client, tenant):
    client = await make_client(login_failures_per_account_address=3)
    email = tenant.users["admin"].email
    body = {"email": email, "password": "wrong"}
    statuses = []
    for _ in range(4):
        resp = await client.post(
            "/api/sales/auth/login", json=body, headers={"X-Tenant": tenant.slug}
        )
        statuses.append(resp.status)
    assert statuses == [401, 401, 401, 429]
    assert int(resp.headers["Retry-After"]) >= 1
    assert (await resp.json())["type"].endswith("/rate-limited")
    # The right password is refused too from this address: no oracle for attackers.
    good = {"email": email, "password": PASSWORD}
    resp = await client.post("/api/sales/auth/login", json=good, headers={"X-Tenant": tenant.slug})
    assert resp.status == 429
    # Another user from the same tenant is not affected by this email's bucket.
    other = {"email": tenant.users["sales"].email, "password": PASSWORD}
    resp = await client.post("/api/sales/auth/login", json=other, headers={"X-Tenant": tenant.slug})
    assert resp.status == 200


async def test_openapi_documents_every_route_and_only_those(client):
    doc = await (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for resource in client.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or re.sub(r"\{id:[^}]*\}\}?", "{id}", info.get("formatter", ""))
        for route in resource:
            served.add((route.method, path))
    # HEAD answers like GET without a body on every GET route; the document lists the GETs.
    heads = {(m, p) for m, p in served if m == "HEAD"}
    assert heads == {("HEAD", p) for m, p in served if m == "GET"}
    assert served - heads == documented
    assert {(r.method, r.path) for r in ROUTES} == documented


async def test_openapi_describes_auth_headers_and_problems(client):
    doc = await (await client.get("/openapi.json")).json()
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "session"}
    place = doc["paths"]["/api/sales/orders"]["post"]
    names = {p["name"] for p in place["parameters"]}
    assert {"X-Tenant", "X-Request-ID", "Idempotency-Key"} <= names
    assert set(place["responses"]) >= {
        "201",
        "400",
        "401",
        "404",
        "409",
        "403",
        "413",
        "415",
        "422",
        "503",
    }
    problem = place["responses"]["409"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert json.dumps(doc).count("Idempotency-Key") >= 6  # every state-changing POST


async def test_pool_gauges_return_to_zero_after_a_burst(client, admin_of, tenant, seeder):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    await asyncio.gather(*(client.get("/api/sales/customers", headers=headers) for _ in range(40)))
    m = await scrape(await admin_of(client))
    assert value(m, "db_pool_in_use", worker="1") == 0
    assert value(m, "db_pool_waiting", worker="1") == 0
    assert value(m, "db_pool_size", worker="1") == value(m, "db_pool_available", worker="1")
    assert_pool_idle(client)
