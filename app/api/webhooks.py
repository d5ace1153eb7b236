"""Webhook endpoints of the caller's tenant (admins only): call the service, return its result."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from uuid import UUID

from app.edge.call import Call
from domain.model.paging import Page
from domain.model.webhooks import EndpointChanges, WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True, slots=True)
class WebhookWithSecret(WebhookEndpoint):
    """The endpoint's fields and its secret, flat; an `id`, so the row's `Location` applies."""

    secret: str = ""


async def create_webhook(call: Call) -> WebhookWithSecret:
    body = call.body
    created = await call.services.webhooks.create(
        call.caller, body["url"], tuple(body["event_types"]), body["description"]
    )
    return WebhookWithSecret(**dataclasses.asdict(created.endpoint), secret=created.secret)


async def list_webhooks(call: Call) -> Page[WebhookEndpoint]:
    return await call.services.webhooks.list(call.caller, call.page)


async def get_webhook(call: Call) -> WebhookEndpoint:
    return await call.services.webhooks.get(call.caller, call.path_id)


async def patch_webhook(call: Call) -> WebhookEndpoint:
    body = call.body
    types = body.get("event_types")
    changes = EndpointChanges(
        url=body.get("url"),
        description=body.get("description"),
        event_types=tuple(types) if types is not None else None,
        enabled=body.get("enabled"),
    )
    return await call.services.webhooks.update(call.caller, call.path_id, changes)


async def delete_webhook(call: Call) -> None:
    await call.services.webhooks.delete(call.caller, call.path_id)


async def list_deliveries(call: Call) -> Page[WebhookDelivery]:
    return await call.services.webhooks.deliveries(call.caller, call.path_id, call.page)


async def retry_delivery(call: Call) -> WebhookDelivery:
    delivery_id = UUID(call.request.match_info["delivery_id"])
    return await call.services.webhooks.resend(call.caller, call.path_id, delivery_id)
