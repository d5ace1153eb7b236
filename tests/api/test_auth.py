"""Login, logout and who-am-I over HTTP, with cookie and bearer tokens."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import auth_headers
from tests.support.seeder import PASSWORD


async def login(client, tenant, email, password=PASSWORD):
    return await client.post(
        "/api/sales/auth/login",
        json={"email": email, "password": password},
        headers={"X-Tenant": tenant.slug},
    )


async def test_login_returns_token_user_and_http_only_cookie(client, tenant):
    user = tenant.users["admin"]
    resp = await login(client, tenant, user.email)
    assert resp.status == 200
    body = await resp.json()
    assert body["user"] == {
        "id": str(user.id),
        "email": user.email,
        "name": user.email.split("@")[0],
        "role": "admin",
    }
    assert body["token"] and body["expires_at"]
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith(f"sales-session-id={body['token']};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


async def test_login_cookie_is_secure_when_configured(make_client, tenant):
    client = await make_client(cookie_secure=True)
    resp = await login(client, tenant, tenant.users["admin"].email)
    assert "Secure" in resp.headers["Set-Cookie"]


async def test_unknown_email_and_wrong_password_get_the_same_401(client, tenant):
    wrong_password = await login(client, tenant, tenant.users["admin"].email, "nope")
    unknown_email = await login(client, tenant, "ghost@nowhere.test")
    assert wrong_password.status == unknown_email.status == 401
    a, b = await wrong_password.json(), await unknown_email.json()
    assert a["detail"] == b["detail"] and a["type"] == b["type"]
    assert wrong_password.headers["Content-Type"].startswith("application/problem+json")


async def test_login_with_another_tenants_user_fails(client, tenant, other_tenant):
    resp = await login(client, other_tenant, tenant.users["admin"].email)
    assert resp.status == 401


async def test_me_with_bearer_token(client, tenant):
    token = (await (await login(client, tenant, tenant.users["sales"].email)).json())["token"]
    resp = await client.get("/api/sales/auth/me", headers=auth_headers(tenant, token))
    assert resp.status == 200
    body = await resp.json()
    assert body["user_id"] == str(tenant.users["sales"].id)
    assert body["role"] == "sales" and body["tenant"] == tenant.slug


async def test_me_with_session_cookie(client, tenant):
    resp = await login(client, tenant, tenant.users["admin"].email)
    assert resp.status == 200  # the client's cookie jar now holds sales-session-id
    me = await client.get("/api/sales/auth/me", headers={"X-Tenant": tenant.slug})
    assert me.status == 200
    assert (await me.json())["email"] == tenant.users["admin"].email


async def test_logout_revokes_the_session(client, tenant, seeder):
    token = seeder.session(tenant, tenant.users["admin"])
    headers = auth_headers(tenant, token)
    assert (await client.post("/api/sales/auth/logout", headers=headers)).status == 204
    resp = await client.get("/api/sales/auth/me", headers=headers)
    assert resp.status == 401
    assert seeder.count(tenant, "sessions", "revoked_at is not null") == 1


async def test_expired_session_is_401(client, tenant, seeder):
    token = seeder.session(tenant, tenant.users["admin"], expires_in=timedelta(seconds=-1))
    resp = await client.get("/api/sales/auth/me", headers=auth_headers(tenant, token))
    assert resp.status == 401


async def test_revoked_session_is_401(client, tenant, seeder):
    token = seeder.session(tenant, tenant.users["admin"], revoked=True)
    resp = await client.get("/api/sales/auth/me", headers=auth_headers(tenant, token))
    assert resp.status == 401


async def test_token_of_one_tenant_is_401_under_another(client, tenant, other_tenant, seeder):
    token = seeder.session(tenant, tenant.users["admin"])
    resp = await client.get("/api/sales/auth/me", headers=auth_headers(other_tenant, token))
    assert resp.status == 401


async def test_missing_and_malformed_tokens_are_401(client, tenant):
    for headers in (
        {"X-Tenant": tenant.slug},
        {"X-Tenant": tenant.slug, "Authorization": "Bearer short"},
        {"X-Tenant": tenant.slug, "Authorization": "Basic YWxpY2U6cHc="},
        {"X-Tenant": tenant.slug, "Authorization": "Bearer " + "x" * 40},
    ):
        resp = await client.get("/api/sales/auth/me", headers=headers)
        assert resp.status == 401, headers
        assert (await resp.json())["type"].endswith("/unauthenticated")


async def test_api_key_authenticates_with_its_role(client, tenant, seeder):
    key = seeder.api_key(tenant, role="admin")
    resp = await client.get("/api/sales/auth/me", headers=auth_headers(tenant, key))
    assert resp.status == 200
    body = await resp.json()
    assert body["role"] == "admin" and body["api_key_id"] and body["user_id"] is None


async def test_revoked_api_key_is_401(client, tenant, seeder):
    key = seeder.api_key(tenant, revoked=True)
    resp = await client.get("/api/sales/auth/me", headers=auth_headers(tenant, key))
    assert resp.status == 401


async def test_unknown_tenant_is_404_problem(client):
    headers = {"X-Tenant": "no-such-tenant", "Authorization": "Bearer " + "t" * 43}
    resp = await client.get("/api/sales/auth/me", headers=headers)
    assert resp.status == 404
    assert (await resp.json())["type"].endswith("/unknown-tenant")
    login = await client.post(
        "/api/sales/auth/login", json={"email": "a@b.test", "password": "x"}, headers=headers
    )
    assert login.status == 404


async def test_no_token_is_401_before_the_tenant_is_even_looked_up(client):
    resp = await client.get("/api/sales/auth/me", headers={"X-Tenant": "no-such-tenant"})
    assert resp.status == 401


async def test_tenant_from_host_under_base_domain(make_client, tenant, seeder):
    client = await make_client(base_domain="sales.test")
    token = seeder.session(tenant, tenant.users["admin"])
    resp = await client.get(
        "/api/sales/auth/me",
        headers={"Host": f"{tenant.slug}.sales.test", "Authorization": f"Bearer {token}"},
    )
    assert resp.status == 200
    assert (await resp.json())["tenant"] == tenant.slug


async def test_default_tenant_when_nothing_names_one(make_client, tenant, seeder):
    client = await make_client(default_tenant=tenant.slug)
    token = seeder.session(tenant, tenant.users["admin"])
    resp = await client.get("/api/sales/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
