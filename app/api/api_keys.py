"""API keys of the caller's tenant (admins only): create, list, revoke."""

from __future__ import annotations

from app.api.outputs import CreatedApiKey
from app.edge.call import Call, Plain
from domain.model.identity import ApiKey, ApiKeyRequest
from domain.model.paging import Listing, Page


async def create_api_key(call: Call[ApiKeyRequest, None]) -> CreatedApiKey:
    body = call.body
    issued = await call.services.auth.create_api_key(
        call.caller, body.name, body.role, body.expires_at
    )
    return CreatedApiKey.of(issued)


async def list_api_keys(call: Call[None, Listing[None]]) -> Page[ApiKey]:
    return await call.services.auth.list_api_keys(call.caller, call.query.page)


async def revoke_api_key(call: Plain) -> None:
    await call.services.auth.revoke_api_key(call.caller, call.path_id)
