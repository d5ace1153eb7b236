"""Login, logout and who-am-I."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.edge.call import Call
from app.edge.identity import SESSION_COOKIE
from app.edge.json_io import json_response
from app.edge.keys import CONFIG


async def login(call: Call) -> web.Response:
    request, body, tenant = call.request, call.body, call.tenant
    assert tenant is not None
    # Failures are throttled in PostgreSQL per address, per (account, address) and per account
    # (issue 19): the per-worker bucket per email let anyone lock a named user out.
    address = request.remote or "unknown"
    result = await call.services.auth.login(tenant.id, body["email"], body["password"], address)
    user = result.user
    response = json_response(
        {
            "token": result.token,
            "expires_at": result.expires_at,
            "user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role},
        }
    )
    config = request.app[CONFIG]
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="Lax",
        path="/",
        secure=config.cookie_secure,
        max_age=config.session_ttl_seconds,
    )
    return response


async def logout(call: Call) -> web.Response:
    await call.services.auth.logout(call.caller)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def me(call: Call) -> dict[str, Any]:
    p, tenant = call.caller, call.tenant
    assert tenant is not None
    return {
        "tenant_id": p.tenant_id,
        "tenant": tenant.slug,
        "role": p.role,
        "user_id": p.user_id,
        "api_key_id": p.api_key_id,
        "email": p.email,
        "name": p.name,
    }


async def logout_all(call: Call) -> web.Response:
    """Issue 19: end every session of the caller, wherever it was opened."""
    await call.services.auth.logout_everywhere(call.caller)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
