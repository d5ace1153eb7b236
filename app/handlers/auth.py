"""Login, logout and who-am-I."""

from __future__ import annotations

from aiohttp import web

from app.commands import retrying
from app.http import json_response, read_json
from app.keys import CONFIG, LOGIN_LIMITER, PRINCIPAL, SERVICES, TENANT
from app.middlewares import SESSION_COOKIE
from app.schemas.auth import LoginRequest

_login = LoginRequest()


async def login(request: web.Request) -> web.Response:
    body = await read_json(request, _login)
    request.app[LOGIN_LIMITER].check(request[TENANT].slug, body["email"], request.remote)
    result = await request.app[SERVICES].auth.login(
        request[TENANT].id, body["email"], body["password"]
    )
    user = result.user
    response = json_response(
        {
            "token": result.token,
            "expires_at": result.expires_at,
            "user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role},
        }
    )
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="Lax",
        path="/",
        secure=request.app[CONFIG].cookie_secure,
        max_age=request.app[CONFIG].session_ttl_seconds,
    )
    return response


@retrying
async def logout(request: web.Request) -> web.Response:
    await request.app[SERVICES].auth.logout(request[PRINCIPAL])
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def me(request: web.Request) -> web.Response:
    p = request[PRINCIPAL]
    return json_response(
        {
            "tenant_id": p.tenant_id,
            "tenant": request[TENANT].slug,
            "role": p.role,
            "user_id": p.user_id,
            "api_key_id": p.api_key_id,
            "email": p.email,
            "name": p.name,
        }
    )
