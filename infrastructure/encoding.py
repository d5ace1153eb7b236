"""The one JSON encoding of the service: responses and stored idempotent replays alike."""

from __future__ import annotations

from typing import Any

import orjson


def _default(obj: Any) -> Any:
    # Decimal and anything else orjson does not know: money must stay exact, so as a string.
    return str(obj)


def json_bytes(data: Any) -> bytes:
    """Dataclasses, dicts, lists, UUIDs and datetimes as orjson writes them; Decimal as a string."""
    return orjson.dumps(data, default=_default)
