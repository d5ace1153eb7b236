"""Login throttling that cannot be turned against a user (issue 19, item 3).

Failures are counted in PostgreSQL per (account, address), per address and per account, so
an attacker at one address locks only itself out, and every worker sees the same counts.
Distinct loopback addresses (127.0.0.x) stand for distinct clients.
"""

from __future__ import annotations

import uuid

import aiohttp

from tests.support.sales import assert_problem
from tests.support.seeder import PASSWORD

LOGIN = "/api/sales/auth/login"


async def _login(
    url: str, slug: str, email: str, password: str, source: str
) -> aiohttp.ClientResponse:
    """A login sent from the loopback address `source`."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.post(
            url, json={"email": email, "password": password}, headers={"X-Tenant": slug}
        ) as resp:
            await resp.read()
            return resp


async def test_ten_failures_from_one_address_leave_the_user_free_to_log_in_from_another(
    client, tenant
):
    url, email = str(client.make_url(LOGIN)), tenant.users["sales"].email
    statuses = [
        (await _login(url, tenant.slug, email, "wrong", "127.0.0.2")).status for _ in range(10)
    ]
    assert statuses == [401] * 5 + [429] * 5
    # The right password from A is refused too (no oracle) ...
    assert (await _login(url, tenant.slug, email, PASSWORD, "127.0.0.2")).status == 429
    # ... and from B, which never failed, carol is in at once.
    assert (await _login(url, tenant.slug, email, PASSWORD, "127.0.0.3")).status == 200


async def test_an_address_failing_for_many_accounts_is_refused_for_all(make_client, tenant):
    client = await make_client(login_failures_per_address=4)
    url = str(client.make_url(LOGIN))
    for _ in range(4):
        ghost = f"ghost-{uuid.uuid4().hex[:6]}@nowhere.test"
        assert (await _login(url, tenant.slug, ghost, "wrong", "127.0.0.4")).status == 401
    resp = await _login(url, tenant.slug, tenant.users["admin"].email, PASSWORD, "127.0.0.4")
    assert resp.status == 429 and int(resp.headers["Retry-After"]) >= 1
    # Elsewhere the admin is unaffected.
    email = tenant.users["admin"].email
    assert (await _login(url, tenant.slug, email, PASSWORD, "127.0.0.5")).status == 200


async def test_the_account_ceiling_stops_a_distributed_guess_but_not_a_known_address(
    make_client, tenant
):
    client = await make_client(login_failures_per_account=6, login_failures_per_account_address=3)
    url, email = str(client.make_url(LOGIN)), tenant.users["admin"].email
    # The admin logged in from .9 before: that address is trusted for this account.
    assert (await _login(url, tenant.slug, email, PASSWORD, "127.0.0.9")).status == 200
    for source in ("127.0.0.6", "127.0.0.7"):  # two addresses, three failures each
        for _ in range(3):
            assert (await _login(url, tenant.slug, email, "wrong", source)).status == 401
    resp = await _login(url, tenant.slug, email, PASSWORD, "127.0.0.8")  # a new address
    problem = await _problem(resp)
    assert resp.status == 429 and problem.endswith("/rate-limited")
    assert (await _login(url, tenant.slug, email, PASSWORD, "127.0.0.9")).status == 200


async def _problem(resp: aiohttp.ClientResponse) -> str:
    body = await resp.json(content_type=None)
    return str(body["type"])


async def test_a_throttled_login_is_a_problem_with_retry_after(make_client, tenant):
    client = await make_client(login_failures_per_account_address=1)
    body = {"email": tenant.users["sales"].email, "password": "wrong"}
    headers = {"X-Tenant": tenant.slug}
    assert (await client.post(LOGIN, json=body, headers=headers)).status == 401
    resp = await client.post(LOGIN, json=body, headers=headers)
    await assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["Retry-After"]) >= 1
