"""Conditional reads (issue 22): ETags from the tenant's resource versions, 304 and repeats
from memory without a round trip, and never a stale answer once PostgreSQL has said so."""

from __future__ import annotations

import os

import psycopg2
import pytest

from app.edge.keys import CONTAINER
from tests.api.test_auth_cache import logged, until
from tests.conftest import until_listening
from tests.support.sales import API, headers_for

CUSTOMERS = f"{API}/customers"
LISTED = f"{CUSTOMERS}?limit=5"


@pytest.fixture
async def served(make_client):
    client = await make_client()
    await until_listening(client)
    return client


async def etag_of(client, path, headers) -> str:
    resp = await client.get(path, headers=headers)
    assert resp.status == 200
    return resp.headers["ETag"]


async def moved_on(client, path, headers, old: str) -> bool:
    """Whether a conditional read with `old` is now a 200 with another ETag."""
    resp = await client.get(path, headers={**headers, "If-None-Match": old})
    return resp.status == 200 and resp.headers.get("ETag", old) != old


async def test_a_read_carries_an_etag_and_stays_private(served, tenant, seeder):
    resp = await served.get(LISTED, headers=headers_for(seeder, tenant))
    assert resp.status == 200
    assert resp.headers["ETag"].startswith('"') and resp.headers["ETag"].endswith('"')
    assert resp.headers["Cache-Control"] == "private, no-cache"


async def test_a_current_etag_is_answered_304_without_a_round_trip(served, tenant, seeder):
    headers = headers_for(seeder, tenant)
    etag = await etag_of(served, LISTED, headers)
    resp, event = await logged(served, "GET", LISTED, headers={**headers, "If-None-Match": etag})
    assert resp.status == 304 and resp.headers["ETag"] == etag
    assert await resp.read() == b""
    assert (event["cache"], event["db_round_trips"]) == ("not_modified", 0)


async def test_an_item_and_the_dashboard_are_answered_304_too(served, tenant, seeder):
    headers = headers_for(seeder, tenant)
    item = f"{CUSTOMERS}/{seeder.customer(tenant)}"
    for path in (item, f"{API}/dashboard"):
        etag = await etag_of(served, path, headers)
        resp, event = await logged(served, "GET", path, headers={**headers, "If-None-Match": etag})
        assert (resp.status, event["db_round_trips"]) == (304, 0), path


async def test_a_repeated_read_is_answered_from_memory(served, tenant, seeder):
    headers = headers_for(seeder, tenant)
    seeder.customer(tenant)
    first = await served.get(LISTED, headers=headers)
    again, event = await logged(served, "GET", LISTED, headers=headers)
    assert again.status == 200 and await again.read() == await first.read()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert (event["cache"], event["db_round_trips"]) == ("hit", 0)


async def test_another_query_has_another_etag(served, tenant, seeder):
    headers = headers_for(seeder, tenant)
    assert await etag_of(served, LISTED, headers) != await etag_of(
        served, f"{CUSTOMERS}?limit=6", headers
    )


async def test_one_tenants_etag_never_validates_for_another(served, tenant, other_tenant, seeder):
    ours, theirs = headers_for(seeder, tenant), headers_for(seeder, other_tenant)
    our_etag = await etag_of(served, LISTED, ours)
    resp = await served.get(LISTED, headers={**theirs, "If-None-Match": our_etag})
    assert resp.status == 200 and resp.headers["ETag"] != our_etag


async def test_a_write_in_one_tenant_leaves_anothers_etags_alone(
    served, tenant, other_tenant, seeder
):
    ours, theirs = headers_for(seeder, tenant), headers_for(seeder, other_tenant)
    our_etag = await etag_of(served, LISTED, ours)
    their_etag = await etag_of(served, LISTED, theirs)
    created = await served.post(
        CUSTOMERS, json={"name": "New", "email": "n@example.test"}, headers=theirs
    )
    assert created.status == 201
    await until(lambda: moved_on(served, LISTED, theirs, their_etag), what="their new ETag")
    resp = await served.get(LISTED, headers={**ours, "If-None-Match": our_etag})
    assert resp.status == 304


async def test_a_change_made_by_plain_sql_ends_the_old_etag_within_a_second(served, tenant, seeder):
    headers = headers_for(seeder, tenant)
    customer = seeder.customer(tenant, name="Before")
    etag = await etag_of(served, LISTED, headers)
    seeder.run(tenant.id, "update customers set name = 'After' where id = %s", (str(customer),))

    await until(lambda: moved_on(served, LISTED, headers, etag), within=1.0, what="a new ETag")
    body = await (await served.get(LISTED, headers=headers)).json()
    assert [c["name"] for c in body["items"] if c["id"] == str(customer)] == ["After"]


async def test_with_the_listener_terminated_a_write_is_never_answered_304(served, tenant, seeder):
    headers = headers_for(seeder, tenant)
    etag = await etag_of(served, LISTED, headers)
    versions = served.app[CONTAINER].versions
    _terminate_listeners()
    await until(lambda: not versions.serving, what="the worker noticing its listener is gone")
    created = await served.post(
        CUSTOMERS, json={"name": "Unheard", "email": "u@example.test"}, headers=headers
    )
    assert created.status == 201
    resp, event = await logged(served, "GET", LISTED, headers={**headers, "If-None-Match": etag})
    assert resp.status == 200 and "ETag" not in resp.headers
    assert event["cache"] == "bypass"
    await until(lambda: versions.serving, what="the listener back")  # it reads the table again
    await until(lambda: moved_on(served, LISTED, headers, etag), what="a new ETag")


async def test_a_client_that_writes_and_reads_again_at_once_gets_the_new_data(
    served, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    etag = await etag_of(served, LISTED, headers)
    created = await served.post(
        CUSTOMERS, json={"name": "Mine", "email": "m@example.test"}, headers=headers
    )
    assert created.status == 201
    # At once, before the notification of its commit may have arrived: this worker ran the
    # command, so it takes no shortcut for the tenant for a moment.
    resp = await served.get(LISTED, headers={**headers, "If-None-Match": etag})
    assert resp.status == 200
    assert (await created.json())["id"] in [c["id"] for c in (await resp.json())["items"]]


async def test_with_the_response_cache_off_a_repeat_reads_again_but_304s_stay(
    make_client, tenant, seeder
):
    client = await make_client(response_cache_mb=0)
    await until_listening(client)
    headers = headers_for(seeder, tenant)
    etag = await etag_of(client, LISTED, headers)
    _, repeat = await logged(client, "GET", LISTED, headers=headers)
    assert (repeat["cache"], repeat["db_round_trips"]) == ("miss", 1)
    resp, event = await logged(client, "GET", LISTED, headers={**headers, "If-None-Match": etag})
    assert (resp.status, event["db_round_trips"]) == (304, 0)


async def test_metrics_count_hits_misses_304s_and_time_notifications(
    served, admin_of, tenant, seeder
):
    headers = headers_for(seeder, tenant)
    seeder.customer(tenant)
    await until(lambda: served.app[CONTAINER].versions.heard > 0, what="the write heard")
    etag = await etag_of(served, LISTED, headers)
    await served.get(LISTED, headers=headers)
    await served.get(LISTED, headers={**headers, "If-None-Match": etag})
    text = await (await (await admin_of(served)).get("/metrics")).text()
    for line in (
        "response_cache_hits 1.0",
        "response_cache_misses 1.0",
        "response_not_modified 1.0",
        "response_cache_evictions 0.0",
    ):
        assert line in text
    delays = [
        ln
        for ln in text.splitlines()
        if ln.startswith("resource_versions_notify_delay_seconds_count")
    ]
    assert delays and float(delays[0].split()[-1]) >= 1


def _terminate_listeners() -> None:
    """End this database's listener sessions, as an operator's pg_terminate_backend would
    (the app role may end its own sessions); other test runs' databases are left alone."""
    with psycopg2.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
        cur.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = current_database() and application_name = 'sales-api-listener'"
        )
        assert cur.fetchall(), "no listener to terminate"
    conn.close()
