"""The smaller edges hostile callers probed (issue 19, item 8): ending every session, 100
Continue only for known callers, identity headers said once, the admin port's Host, and
ASCII-only paging numbers."""

from __future__ import annotations

import asyncio

import pytest
from multidict import CIMultiDict

from tests.api.test_auth_cache import until
from tests.api.test_cli import cli
from tests.conftest import auth_headers
from tests.support.sales import assert_problem, headers_for

ME = "/api/sales/auth/me"
CUSTOMERS = "/api/sales/customers"


async def _refused(client, headers) -> bool:
    return (await client.get(ME, headers=headers)).status == 401


async def _warm_sessions(client, seeder, tenant, user, n=2):
    sessions = [auth_headers(tenant, seeder.session(tenant, user)) for _ in range(n)]
    for headers in sessions:
        assert (await client.get(ME, headers=headers)).status == 200
    return sessions


async def test_logout_all_ends_every_session_of_the_caller_and_no_one_elses(cached, tenant, seeder):
    user = seeder.user(tenant, "sales")
    mine = await _warm_sessions(cached, seeder, tenant, user)
    (someone_else,) = await _warm_sessions(cached, seeder, tenant, tenant.users["sales"], n=1)
    resp = await cached.post("/api/sales/auth/logout-all", headers=mine[0])
    assert resp.status == 204
    for headers in mine:
        await until(lambda h=headers: _refused(cached, h), 1.0, "session ended")
    assert not await _refused(cached, someone_else)


async def test_logout_all_is_for_users_an_api_key_has_no_sessions(cached, tenant, seeder):
    key = auth_headers(tenant, seeder.api_key(tenant, role="admin"))
    await assert_problem(await cached.post("/api/sales/auth/logout-all", headers=key), 403)


async def test_the_operator_ends_every_session_of_a_user_by_email(cached, tenant, seeder):
    user = seeder.user(tenant, "sales")
    sessions = await _warm_sessions(cached, seeder, tenant, user)
    done = await asyncio.to_thread(
        cli, "revoke-sessions", "--tenant", tenant.slug, "--email", user.email.upper()
    )
    assert done.returncode == 0, done.stderr
    assert "ended 2 sessions" in done.stdout
    for headers in sessions:
        await until(lambda h=headers: _refused(cached, h), 1.0, "session ended")


async def test_a_password_changed_by_sql_ends_the_users_sessions(cached, tenant, seeder):
    user = seeder.user(tenant, "sales")
    sessions = await _warm_sessions(cached, seeder, tenant, user)
    seeder.run(
        tenant.id, "update users set password_hash = 'reset-by-sql' where id = %s", (str(user.id),)
    )
    for headers in sessions:
        await until(lambda h=headers: _refused(cached, h), 1.0, "session ended")


async def _first_answer(
    client, token: str, slug: str
) -> tuple[bytes, asyncio.StreamWriter, asyncio.StreamReader]:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    body = b'{"name": "Expecting", "email": "expect@continue.test"}'
    writer.write(
        (
            f"POST {CUSTOMERS} HTTP/1.1\r\nHost: x\r\nX-Tenant: {slug}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), timeout=5)
    return line, writer, reader


async def test_100_continue_only_once_the_caller_is_known(client, tenant, seeder):
    line, writer, _ = await _first_answer(client, "ss_" + "x" * 40, tenant.slug)
    writer.close()
    assert line.split(b" ")[1] == b"401", line  # no body was ever asked of a stranger
    token = seeder.session(tenant, tenant.users["admin"])
    line, writer, reader = await _first_answer(client, token, tenant.slug)
    try:
        assert line.startswith(b"HTTP/1.1 100"), line
        await reader.readline()  # the blank line after 100 Continue
        writer.write(b'{"name": "Expecting", "email": "expect@continue.test"}')
        await writer.drain()
        final = await asyncio.wait_for(reader.readline(), timeout=5)
        assert final.split(b" ")[1] == b"201", final
    finally:
        writer.close()


async def test_x_tenant_twice_is_a_400(client, tenant, seeder, other_tenant):
    headers = CIMultiDict(headers_for(seeder, tenant))
    headers.add("X-Tenant", other_tenant.slug)
    problem = await assert_problem(await client.get(CUSTOMERS, headers=headers), 400)
    assert problem["type"].endswith("/duplicate-header")


async def test_the_admin_port_answers_only_its_own_host_names(client, admin_of):
    admin = await admin_of(client)
    assert (await admin.get("/dashboard.json")).status == 200  # Host: 127.0.0.1:<port>
    ok = await admin.get("/dashboard.json", headers={"Host": f"localhost:{admin.port}"})
    assert ok.status == 200
    rebound = await admin.get("/dashboard.json", headers={"Host": "attacker.example"})
    await assert_problem(rebound, 421, "misdirected-request")


@pytest.mark.parametrize("limit", ["\uff11", "\u0661", "1\u00a0", "+1", "1e1"])
async def test_paging_numbers_are_ascii_digits_only(client, tenant, seeder, limit):
    resp = await client.get(CUSTOMERS, params={"limit": limit}, headers=headers_for(seeder, tenant))
    assert 400 <= resp.status < 500
    assert resp.headers["Content-Type"].startswith("application/problem+json")
