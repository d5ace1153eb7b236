"""Webhook endpoint schemas: the secret appears only in the answer to its creation."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import page_of
from app.api.schemas.fields import StrictBoolean, Text
from domain.model.events import EVENT_TYPES
from domain.model.webhooks import DELIVERY_OUTCOMES

_url = validate.Length(8, 2000)


class WebhookCreate(Schema):
    url = Text(required=True, validate=_url)
    event_types = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        load_default=list,
        validate=validate.Length(0, len(EVENT_TYPES)),
        metadata={"description": "Event types to send; empty or omitted: every type"},
    )
    description = Text(load_default=None, allow_none=True, validate=validate.Length(0, 500))


class WebhookPatch(Schema):
    url = Text(validate=_url)
    event_types = fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=validate.Length(0, len(EVENT_TYPES)),
    )
    enabled = StrictBoolean()
    description = Text(validate=validate.Length(0, 500))


class WebhookOut(Schema):
    id = fields.UUID(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True, allow_none=True)
    event_types = fields.List(fields.String(), required=True)
    enabled = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    disabled_at = fields.DateTime(required=True, allow_none=True)


class WebhookCreated(WebhookOut):
    secret = fields.String(
        required=True, metadata={"description": "whsec_…: the signing secret, in this answer only"}
    )


class DeliveryOut(Schema):
    id = fields.UUID(required=True)
    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True)
    attempt = fields.Integer(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(DELIVERY_OUTCOMES))
    status_code = fields.Integer(required=True, allow_none=True)
    duration_ms = fields.Integer(required=True, allow_none=True)
    error = fields.String(required=True, allow_none=True)
    next_retry_at = fields.DateTime(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


WebhookPage = page_of(WebhookOut)
DeliveryPage = page_of(DeliveryOut)
