"""A flood of unknown tokens cannot take the pool from known callers (issue 19, item 1).

Random well-formed tokens each used to cost a round trip, unthrottled: a few seconds of them
on a command route emptied the pool for everyone. Failed lookups are now limited per client
address, and uncached lookups run under a concurrency bound of their own.
"""

from __future__ import annotations

import asyncio
import secrets
import time

import aiohttp
import pytest

from app.edge.keys import AUTH_LIMITS, CONTAINER
from domain.model.tokens import SESSION_PREFIX
from tests.conftest import auth_headers, until_listening
from tests.support.sales import assert_problem

pytestmark = pytest.mark.slow

CUSTOMERS = "/api/sales/customers"
FLOOD_SECONDS = 3.0
FLOOD_CONNECTIONS = 300


def _counter(registry, name: str, labels: dict[str, str] | None = None) -> float:
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in (labels or {}).items())
    )


async def _flood(url: str, slug: str, until: float) -> dict[int, int]:
    """Hundreds of connections posting commands with a fresh random token each."""
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one_connection() -> None:
            while time.monotonic() < until:
                token = SESSION_PREFIX + secrets.token_urlsafe(32)
                headers = {"X-Tenant": slug, "Authorization": f"Bearer {token}"}
                try:
                    async with session.post(
                        url, json={"name": "x", "email": "x@y.test"}, headers=headers
                    ) as resp:
                        statuses[resp.status] = statuses.get(resp.status, 0) + 1
                except aiohttp.ClientError:
                    statuses[0] = statuses.get(0, 0) + 1

        await asyncio.gather(*(one_connection() for _ in range(FLOOD_CONNECTIONS)))
    return statuses


async def test_a_random_token_flood_leaves_known_callers_and_the_pool_alone(
    make_client, tenant, seeder
):
    client = await make_client(db_pool_max=5, auth_failures_per_minute=60, auth_failures_burst=20)
    await until_listening(client)
    registry = client.app[CONTAINER].registry
    known = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    assert (await client.get(CUSTOMERS, headers=known)).status == 200  # warm: cached from now
    timeouts_before = _counter(registry, "db_pool_timeouts_total")
    started = time.monotonic()
    flood = asyncio.create_task(
        _flood(str(client.make_url(CUSTOMERS)), tenant.slug, started + FLOOD_SECONDS)
    )
    known_statuses = []
    n = 0
    while not flood.done():
        n += 1
        if n % 2:
            resp = await client.get(CUSTOMERS, headers=known)
        else:
            email = f"known-{secrets.token_hex(6)}@caller.test"
            resp = await client.post(
                CUSTOMERS, json={"name": "Known", "email": email}, headers=known
            )
        await resp.read()
        known_statuses.append(resp.status)
    flood_statuses = await flood
    elapsed = time.monotonic() - started

    # Every flood connection was answered at least once, and refused: 401 while its address
    # had failures to spend, then 429 (or a fast 503 at the full lookup gate). A connection
    # the client side could not make on a loaded machine (0) is the attacker's loss alone.
    assert sum(flood_statuses.values()) >= FLOOD_CONNECTIONS, flood_statuses
    assert set(flood_statuses) <= {0, 401, 429, 503}, flood_statuses
    assert flood_statuses.get(429, 0) > 0, flood_statuses
    # The known caller kept working all along, and every answer it got was a success.
    assert known_statuses and set(known_statuses) <= {200, 201}, (known_statuses, flood_statuses)
    assert _counter(registry, "db_pool_timeouts_total") == timeouts_before
    # The address's failed lookups stay within its bucket: the burst plus 1 a second.
    lookups = _counter(registry, "auth_token_lookups_total", {"outcome": "unknown"})
    assert 20 <= lookups <= 20 + elapsed * 1 + 1, lookups


async def test_past_its_failures_an_address_gets_429_with_retry_after_and_known_callers_pass(
    make_client, tenant, seeder
):
    client = await make_client(auth_failures_per_minute=1, auth_failures_burst=3)
    await until_listening(client)
    known = auth_headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    assert (await client.get(CUSTOMERS, headers=known)).status == 200
    bogus = auth_headers(tenant, SESSION_PREFIX + secrets.token_urlsafe(32))
    for _ in range(3):
        await assert_problem(await client.get(CUSTOMERS, headers=bogus), 401, "unauthenticated")
    resp = await client.post(CUSTOMERS, json={}, headers=bogus)
    await assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["Retry-After"]) >= 1
    assert (await client.get(CUSTOMERS, headers=known)).status == 200  # cached: never limited


async def test_uncached_lookups_beyond_the_gate_and_its_queue_get_a_fast_503(
    make_client, tenant, seeder
):
    client = await make_client(auth_lookup_concurrency=1, auth_lookup_queue=0)
    gate = client.app[AUTH_LIMITS].gate
    await gate.enter()  # a lookup in progress holds the only place
    try:
        bogus = auth_headers(tenant, SESSION_PREFIX + secrets.token_urlsafe(32))
        resp = await client.get(CUSTOMERS, headers=bogus)
        await assert_problem(resp, 503, "overloaded")
        assert resp.headers["Retry-After"] == "1"
    finally:
        gate.leave()
