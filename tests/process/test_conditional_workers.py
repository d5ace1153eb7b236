"""Two workers, each with its own version book (issue 22): a current ETag is answered 304
without a round trip by either, and a write made anywhere (through either worker, by plain
SQL, or while the listeners are cut off) ends it on every worker.

As in test_auth_cache_workers.py, every request opens a connection of its own, so a round of
SPREAD requests reaches both workers but for a chance of 2^-29.
"""

from __future__ import annotations

import http.client
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pytest

from tests.support.seeder import SeededTenant, Seeder
from tests.support.server import serving
from tests.support.worker_log import events, until

pytestmark = pytest.mark.slow

WORKERS = 2
SPREAD = 30
CUSTOMERS = "/api/sales/customers"
LISTED = f"{CUSTOMERS}?limit=3"


@dataclass
class Running:
    base: str
    log: Path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    log = tmp_path_factory.mktemp("workers") / "service.log"
    env = {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json", "DB_POOL_MIN": "0", "DB_POOL_MAX": "4"}
    with serving(env, log, workers=WORKERS) as running:
        until(lambda: events(log, "listener_up") >= WORKERS, within=20, what="listeners")
        yield Running(running.base, log)


def call(
    base: str, method: str, path: str, headers: dict[str, str], body: object = None
) -> tuple[int, dict[str, str]]:
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        payload = json.dumps(body) if body is not None else None
        conn.request(
            method, path, body=payload, headers={"Content-Type": "application/json", **headers}
        )
        resp = conn.getresponse()
        resp.read()
        return resp.status, dict(resp.getheaders())
    finally:
        conn.close()


def conditional_round(base: str, headers: dict[str, str], etag: str) -> list[tuple[int, str]]:
    """SPREAD conditional reads, each on a fresh connection: (status, ETag) of each."""
    answers = [call(base, "GET", LISTED, {**headers, "If-None-Match": etag}) for _ in range(SPREAD)]
    return [(status, h.get("ETag", "")) for status, h in answers]


def every_worker_has_moved_on(base: str, headers: dict[str, str], etag: str) -> bool:
    return all(
        s == 200 and tag not in ("", etag) for s, tag in conditional_round(base, headers, etag)
    )


def warmed(service: Running, tenant: SeededTenant, seeder: Seeder) -> tuple[dict[str, str], str]:
    """A session known to both workers (their principal caches), and the list's ETag."""
    headers = {
        "X-Tenant": tenant.slug,
        "Authorization": f"Bearer {seeder.session(tenant, tenant.users['admin'])}",
    }
    tags = {call(service.base, "GET", LISTED, headers)[1]["ETag"] for _ in range(SPREAD)}
    assert len(tags) == 1, "both workers heard the same versions, so give the same ETag"
    return headers, tags.pop()


def test_both_workers_answer_a_current_etag_304_without_a_round_trip(
    service, seeder: Seeder, tenant
):
    headers, etag = warmed(service, tenant, seeder)
    before = events(service.log, "request", cache="not_modified", db_round_trips=0)
    assert {s for s, _ in conditional_round(service.base, headers, etag)} == {304}
    assert events(service.log, "request", cache="not_modified", db_round_trips=0) - before == SPREAD


def test_a_write_through_one_worker_ends_the_old_etag_on_every_worker(
    service, seeder: Seeder, tenant
):
    headers, etag = warmed(service, tenant, seeder)
    new = {"name": "New", "email": f"{uuid.uuid4().hex[:8]}@example.test"}
    assert call(service.base, "POST", CUSTOMERS, headers, new)[0] == 201
    until(lambda: every_worker_has_moved_on(service.base, headers, etag), 1.0, "new ETags")


def test_one_tenants_write_leaves_anothers_etag_valid_on_every_worker(
    service, seeder: Seeder, tenant, other_tenant
):
    ours, our_etag = warmed(service, tenant, seeder)
    theirs, their_etag = warmed(service, other_tenant, seeder)
    assert our_etag != their_etag
    assert {s for s, _ in conditional_round(service.base, theirs, our_etag)} == {200}
    new = {"name": "Theirs", "email": f"{uuid.uuid4().hex[:8]}@example.test"}
    assert call(service.base, "POST", CUSTOMERS, theirs, new)[0] == 201
    until(lambda: every_worker_has_moved_on(service.base, theirs, their_etag), 1.0, "theirs")
    assert {s for s, _ in conditional_round(service.base, ours, our_etag)} == {304}


def test_a_change_by_plain_sql_ends_the_old_etag_on_every_worker(service, seeder: Seeder, tenant):
    customer = seeder.customer(tenant, name="Before")
    headers, etag = warmed(service, tenant, seeder)
    seeder.run(tenant.id, "update customers set name = 'After' where id = %s", (str(customer),))
    until(lambda: every_worker_has_moved_on(service.base, headers, etag), 1.0, "new ETags")


def test_with_the_listeners_terminated_a_write_is_never_answered_304(
    service, seeder: Seeder, tenant
):
    headers, etag = warmed(service, tenant, seeder)
    downs = events(service.log, "listener_down")
    ups = events(service.log, "listener_up")
    terminated = terminate_listeners()
    assert terminated == WORKERS
    until(lambda: events(service.log, "listener_down") - downs >= WORKERS, 5.0, "noticed")
    new = {"name": "Unheard", "email": f"{uuid.uuid4().hex[:8]}@example.test"}
    assert call(service.base, "POST", CUSTOMERS, headers, new)[0] == 201
    # Whether a worker is still reconnecting (no shortcut) or back (it read the table
    # again), the old ETag is never current.
    for _ in range(3):
        assert 304 not in {s for s, _ in conditional_round(service.base, headers, etag)}
    until(lambda: events(service.log, "listener_up") - ups >= WORKERS, 10.0, "listeners back")
    assert 304 not in {s for s, _ in conditional_round(service.base, headers, etag)}


def terminate_listeners() -> int:
    """End the service's listener sessions in this test database (the app role may end its
    own sessions); other test runs' databases are left alone."""
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where datname = current_database() and application_name = 'sales-api-listener'"
            )
            return len(cur.fetchall())
    finally:
        conn.close()
