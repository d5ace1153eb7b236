"""The change feed: one page of events after a cursor, or a long poll for the next ones."""

from __future__ import annotations

from typing import Any

import orjson

from app.edge.call import Call
from app.edge.keys import PLACE


async def list_events(call: Call) -> dict[str, Any]:
    q = call.query
    types = tuple(t.strip() for t in q["types"].split(",") if t.strip()) if q["types"] else ()
    place = call.request.get(PLACE)
    page = await call.services.events.page(
        call.tenant_id,
        q["after"],
        types,
        q["limit"],
        q["wait"],
        step_aside=place.stepped_aside if place is not None else None,
    )
    items = [
        {
            "id": e.id,
            "type": e.type,
            "occurred_at": e.occurred_at,
            "data": orjson.Fragment(e.data_json),  # stored as the API answered it: sent as is
        }
        for e in page.items
    ]
    return {"items": items, "next": page.next}
