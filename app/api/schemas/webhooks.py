"""Webhook endpoint schemas: the secret appears only in the answer to its creation."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from app.api.outputs import CreatedWebhookEndpoint
from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into, page_of
from app.api.schemas.fields import StrictBoolean, Text
from domain.model.events import EVENT_TYPES
from domain.model.webhooks import EndpointChanges, WebhookDelivery, WebhookEndpoint, WebhookRequest

_url = validate.Length(8, 2000)


def _event_types(**kwargs: Any) -> fields.List[str]:
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(0, len(EVENT_TYPES)),
        **kwargs,
    )


class WebhookCreate(Into):
    url = Text(required=True, validate=_url)
    event_types = _event_types(
        load_default=list,
        metadata={"description": "Event types to send; empty or omitted: every type"},
    )
    description = Text(load_default=None, allow_none=True, validate=validate.Length(0, 500))

    def make(self, data: dict[str, Any]) -> WebhookRequest:
        return WebhookRequest(data["url"], tuple(data["event_types"]), data["description"])


class WebhookPatch(Into):
    url = Text(validate=_url)
    event_types = _event_types()
    enabled = StrictBoolean()
    description = Text(validate=validate.Length(0, 500))

    def make(self, data: dict[str, Any]) -> EndpointChanges:
        if "event_types" in data:
            data = {**data, "event_types": tuple(data["event_types"])}
        return EndpointChanges(**data)


WebhookOut = answer_schema(WebhookEndpoint)
WebhookCreated = answer_schema(CreatedWebhookEndpoint)
DeliveryOut = answer_schema(WebhookDelivery)
WebhookPage = page_of(WebhookOut)
DeliveryPage = page_of(DeliveryOut)
