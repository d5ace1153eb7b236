"""How uuid values cross the driver: as uuid.UUID both ways, parsed and quoted once each.

psycopg2's register_uuid builds a new UUID from text for every uuid in every row, and quotes
every UUID parameter through UUID.__str__; on a list page that was a visible share of the
worker's CPU in a py-spy profile (docs/performance.md). Ids repeat all the time (the tenant on every statement, hot rows on
every page), and UUIDs are immutable, so both directions are memoized.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

import psycopg2.extensions as ext

_UUID_OID, _UUID_ARRAY_OID = 2950, 2951


@lru_cache(maxsize=65_536)
def _parse(text: str) -> UUID:
    return UUID(text)


@lru_cache(maxsize=65_536)
def _quote(value: UUID) -> ext.AsIs:
    return ext.AsIs(f"'{value}'::uuid")


def _cast(text: str | bytes | None, _cursor: object) -> UUID | None:
    return _parse(text) if isinstance(text, str) else None


def register_uuid() -> None:
    """Process-wide, like psycopg2.extras.register_uuid, which it replaces."""
    uuid_type = ext.new_type((_UUID_OID,), "UUID", _cast)
    ext.register_type(uuid_type)
    ext.register_type(ext.new_array_type((_UUID_ARRAY_OID,), "UUID[]", uuid_type))
    ext.register_adapter(UUID, _quote)
