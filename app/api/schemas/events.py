"""Change feed schemas: the feed query and its page of events (docs/events.md)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain.model.events import EVENT_TYPES, MAX_WAIT_SECONDS


class EventListQuery(Schema):
    after = fields.String(
        load_default=None,
        validate=validate.Length(1, 200),
        metadata={"description": "The `next` of the previous answer; omitted: the oldest kept"},
    )
    types = fields.String(
        load_default=None,
        validate=validate.Length(1, 1000),
        metadata={"description": "Comma-separated event types to keep (default: all)"},
    )
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(1, 500),
        metadata={"description": "Events per answer, 1 to 500 (default 100)"},
    )
    wait = fields.Float(
        load_default=0,
        validate=validate.Range(0, MAX_WAIT_SECONDS),
        metadata={"description": "Seconds to wait for an event when there is none yet (long poll)"},
    )


class EventOut(Schema):
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    occurred_at = fields.DateTime(required=True)
    data = fields.Dict(
        required=True, metadata={"description": "The resource as the API answers it"}
    )


class EventPage(Schema):
    items = fields.List(fields.Nested(EventOut), required=True)
    next = fields.String(required=True, metadata={"description": "The cursor to walk on from"})
