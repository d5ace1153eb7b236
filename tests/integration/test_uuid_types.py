"""uuid values through the service's pool: UUID objects both ways, each parsed once."""

from __future__ import annotations

import uuid

from infrastructure.db.sql import raw

ECHO = raw("select %(id)s::uuid, %(id)s::uuid::text, array[%(id)s]::uuid[], null::uuid")


async def test_uuids_round_trip_and_a_repeated_id_is_parsed_once(db):
    given = uuid.uuid4()
    async with db.connection("test") as conn:
        ((first, text, array, null),) = await conn.execute(ECHO, {"id": given})
        ((again, _, _, _),) = await conn.execute(ECHO, {"id": given})

    assert first == given and isinstance(first, uuid.UUID)
    assert text == str(given) and array == [given] and null is None
    assert again is first, "the memoized parser must hand back the same object"
