"""purge-events keeps EVENT_RETENTION_DAYS of each feed, only ever deleting a prefix, and a
cursor from before the purge answers 410 cursor-expired."""

from __future__ import annotations

from tests.api.test_cli import cli
from tests.api.test_events_feed import FEED, new_customer, walk
from tests.conftest import auth_headers
from tests.support.sales import assert_problem


def age(seeder, tenant, position: int, days: int) -> None:
    seeder.run(
        tenant.id,
        "update events set occurred_at = now() - %s * interval '1 day' where position = %s",
        (days, position),
    )


async def test_purge_deletes_the_old_prefix_of_the_feed_and_old_cursors_expire(
    client, tenant, seeder
):
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    _, start = await walk(client, headers)
    for _ in range(4):
        await new_customer(client, headers)
    age(seeder, tenant, 1, 40)
    age(seeder, tenant, 2, 40)
    age(seeder, tenant, 4, 40)  # old, but after a young one: kept, or the feed would have a hole

    result = cli("purge-events")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("purged ")
    rows = seeder.run(tenant.id, "select position from events order by position")
    assert [r[0] for r in rows] == [3, 4]
    await assert_problem(
        await client.get(FEED, params={"after": start}, headers=headers), 410, "cursor-expired"
    )
    kept, _ = await walk(client, headers)
    assert len(kept) == 2
