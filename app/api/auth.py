"""Login, logout and who-am-I."""

from __future__ import annotations

from aiohttp import web

from app.api.outputs import LoginAnswer, Me
from app.edge.call import Call, Plain
from app.edge.identity import SESSION_COOKIE
from app.edge.json_io import json_response
from app.edge.keys import CONFIG
from domain.model.identity import Credentials


async def login(call: Call[Credentials, None]) -> web.Response:
    request, body, tenant = call.request, call.body, call.tenant
    assert tenant is not None
    # Failures are throttled in PostgreSQL per address, per (account, address) and per
    # account (issue 19): a per-worker bucket per email let anyone lock a named user out.
    address = request.remote or "unknown"
    result = await call.services.auth.login(tenant.id, body.email, body.password, address)
    response = json_response(LoginAnswer.of(result))
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


async def logout(call: Plain) -> web.Response:
    await call.services.auth.logout(call.caller)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def me(call: Plain) -> Me:
    assert call.tenant is not None
    return Me.of(call.caller, call.tenant)


async def logout_all(call: Plain) -> web.Response:
    """End every session of the caller, wherever it was opened (issue 19)."""
    await call.services.auth.logout_everywhere(call.caller)
    response = web.Response(status=204)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response
