"""The change feed: one page of events after a cursor, or a long poll for the next ones."""

from __future__ import annotations

from app.api.outputs import FeedAnswer
from app.edge.call import Call
from app.edge.keys import PLACE
from domain.model.events import FeedRequest


async def list_events(call: Call[None, FeedRequest]) -> FeedAnswer:
    q = call.query
    place = call.request.get(PLACE)  # a long poll gives up its admission place while it waits
    page = await call.services.events.page(
        call.tenant_id,
        q.after,
        q.types,
        q.limit,
        q.wait,
        step_aside=place.stepped_aside if place is not None else None,
    )
    return FeedAnswer.of(page)
