"""Webhook endpoints of the caller's tenant (admins only): call the service, return its result."""

from __future__ import annotations

from uuid import UUID

from app.api.outputs import CreatedWebhookEndpoint
from app.edge.call import Call, Plain
from domain.model.paging import Listing, Page
from domain.model.webhooks import EndpointChanges, WebhookDelivery, WebhookEndpoint, WebhookRequest


async def create_webhook(call: Call[WebhookRequest, None]) -> CreatedWebhookEndpoint:
    b = call.body
    created = await call.services.webhooks.create(call.caller, b.url, b.event_types, b.description)
    return CreatedWebhookEndpoint.of(created)


async def list_webhooks(call: Call[None, Listing[None]]) -> Page[WebhookEndpoint]:
    return await call.services.webhooks.list(call.caller, call.query.page)


async def get_webhook(call: Plain) -> WebhookEndpoint:
    return await call.services.webhooks.get(call.caller, call.path_id)


async def patch_webhook(call: Call[EndpointChanges, None]) -> WebhookEndpoint:
    return await call.services.webhooks.update(call.caller, call.path_id, call.body)


async def delete_webhook(call: Plain) -> None:
    await call.services.webhooks.delete(call.caller, call.path_id)


async def list_deliveries(call: Call[None, Listing[None]]) -> Page[WebhookDelivery]:
    return await call.services.webhooks.deliveries(call.caller, call.path_id, call.query.page)


async def retry_delivery(call: Plain) -> WebhookDelivery:
    delivery_id = UUID(call.request.match_info["delivery_id"])
    return await call.services.webhooks.resend(call.caller, call.path_id, delivery_id)
