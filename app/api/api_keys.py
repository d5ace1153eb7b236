"""API keys of the caller's tenant (admins only): create, list, revoke."""

from __future__ import annotations

import dataclasses

import structlog
from aiohttp import web

from app.edge.call import Call
from app.edge.json_io import json_response
from app.edge.keys import CREATED_ID
from domain.model.identity import ApiKey
from domain.model.paging import Page

log = structlog.get_logger("app.api_keys")


async def create_api_key(call: Call) -> web.Response:
    body = call.body
    issued = await call.services.auth.create_api_key(
        call.caller, body["name"], body["role"], body["expires_at"]
    )
    created = issued.api_key
    log.info(
        "api_key_created",
        api_key_id=str(created.id),
        role=created.role,
        created_by=call.caller.subject,
        expires_at=created.expires_at.isoformat() if created.expires_at else None,
    )
    response = json_response({**dataclasses.asdict(created), "key": issued.key}, status=201)
    response[CREATED_ID] = str(created.id)  # the request event names the new key too
    return response


async def list_api_keys(call: Call) -> Page[ApiKey]:
    return await call.services.auth.list_api_keys(call.caller, call.page)


async def revoke_api_key(call: Call) -> None:
    await call.services.auth.revoke_api_key(call.caller, call.path_id)
