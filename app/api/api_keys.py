"""API keys of the caller's tenant (admins only): create, list, revoke."""

from __future__ import annotations

import structlog

from app.api.outputs import CreatedApiKey
from app.edge.call import Call, Plain
from domain.model.identity import ApiKey, ApiKeyRequest
from domain.model.paging import Listing, Page

log = structlog.get_logger("app.api_keys")


async def create_api_key(call: Call[ApiKeyRequest, None]) -> CreatedApiKey:
    body = call.body
    issued = await call.services.auth.create_api_key(
        call.caller, body.name, body.role, body.expires_at
    )
    created = issued.api_key
    log.info(
        "api_key_created",
        api_key_id=str(created.id),
        role=created.role,
        created_by=call.caller.subject,
        expires_at=created.expires_at.isoformat() if created.expires_at else None,
    )
    return CreatedApiKey.of(issued)  # the request event names the new key as `created_id`


async def list_api_keys(call: Call[None, Listing[None]]) -> Page[ApiKey]:
    return await call.services.auth.list_api_keys(call.caller, call.query.page)


async def revoke_api_key(call: Plain) -> None:
    await call.services.auth.revoke_api_key(call.caller, call.path_id)
