"""Change feed schemas: the feed query (the answer's schema is made from app/api/outputs.py)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from app.api.outputs import FeedAnswer
from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into
from domain.model.events import MAX_WAIT_SECONDS, FeedRequest


class EventListQuery(Into):
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

    def make(self, data: dict[str, Any]) -> FeedRequest:
        types = tuple(t.strip() for t in (data["types"] or "").split(",") if t.strip())
        return FeedRequest(data["after"], types, data["limit"], data["wait"])


EventPage = answer_schema(FeedAnswer)
