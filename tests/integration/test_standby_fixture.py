"""The streaming-standby fixture (tests/support/standby.py) is a real hot standby: what the app
role writes on the primary shows up there once replayed, not while replay is paused, the standby
refuses writes, and row-level security applies there as on the primary.

One private primary and standby for the whole module (they are not the shared test server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import psycopg2.errors
import pytest

from tests.support.pgcluster import server_binaries_available
from tests.support.standby import Standby, running_primary_and_standby

pytestmark = pytest.mark.skipif(
    not server_binaries_available(),
    reason="no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql",
)


@pytest.fixture(scope="module")
def pair() -> Iterator[Standby]:
    with running_primary_and_standby() as standby:
        yield standby


@pytest.fixture(autouse=True)
def standby(pair: Standby) -> Iterator[Standby]:
    """Every test starts with the standby up and replaying, whatever the previous one did."""
    if not pair.running:
        pair.start_standby()
    pair.resume_replay()
    yield pair
    pair.resume_replay()


@pytest.fixture(scope="module")
def tenants(pair: Standby) -> dict[str, str]:
    """slug -> id of the demo tenants."""
    return {slug: str(id_) for slug, id_ in pair.primary.query("select slug, id from tenants")}


def add_customer(url: str, tenant_id: str) -> str:
    """Insert a customer as the app role (so with the tenant set, as the service does)."""
    name = f"Replicated {uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select set_config('app.tenant_id', %s, true)", (tenant_id,))
            cur.execute(
                "insert into customers (tenant_id, name, email) values (%s, %s, %s)",
                (tenant_id, name, f"{uuid.uuid4().hex}@standby.test"),
            )
    finally:
        conn.close()
    return name


def customer_names(url: str, tenant_id: str | None) -> set[str]:
    """Customer names visible to `url`'s role, as `tenant_id` (None: no tenant set)."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            if tenant_id is not None:
                cur.execute("select set_config('app.tenant_id', %s, true)", (tenant_id,))
            cur.execute("select name from customers")
            return {name for (name,) in cur.fetchall()}
    finally:
        conn.close()


def test_the_standby_is_a_separate_server_in_recovery(standby):
    assert standby.port != standby.primary.port
    assert standby.query("select pg_is_in_recovery()") == [(True,)]
    assert standby.primary.query("select pg_is_in_recovery()") == [(False,)]
    rows = standby.primary.query("select application_name, state from pg_stat_replication")
    assert [state for _, state in rows] == ["streaming"]


def test_a_row_the_app_role_writes_on_the_primary_appears_on_the_standby(standby, tenants):
    name = add_customer(standby.primary_app_url, tenants["acme"])
    standby.wait_caught_up()
    assert name in customer_names(standby.standby_app_url, tenants["acme"])


def test_while_replay_is_paused_a_new_row_does_not_appear_until_resumed(standby, tenants):
    standby.pause_replay()
    name = add_customer(standby.primary_app_url, tenants["acme"])
    # The WAL has arrived: only the paused replay keeps the row out of sight.
    standby.wait_received()
    assert name not in customer_names(standby.standby_app_url, tenants["acme"])
    assert standby.replay_lsn() < standby.primary_lsn()
    standby.resume_replay()
    standby.wait_caught_up()
    assert name in customer_names(standby.standby_app_url, tenants["acme"])


def test_the_standby_refuses_writes(standby, tenants):
    for url in (standby.standby_app_url, standby.standby_superuser_url):
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("select set_config('app.tenant_id', %s, true)", (tenants["acme"],))
                with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
                    cur.execute(
                        "insert into customers (tenant_id, name, email) values (%s, 'x', %s)",
                        (tenants["acme"], f"{uuid.uuid4().hex}@standby.test"),
                    )
        finally:
            conn.close()


def test_row_level_security_applies_on_the_standby(standby, tenants):
    standby.wait_caught_up()
    everyone = customer_names(standby.standby_superuser_url, None)  # superusers bypass RLS
    acme = customer_names(standby.standby_app_url, tenants["acme"])
    globex = customer_names(standby.standby_app_url, tenants["globex"])
    assert acme and globex
    assert acme | globex == everyone
    assert not acme & globex
    assert customer_names(standby.standby_app_url, None) == set()
    assert customer_names(standby.standby_app_url, "") == set()


def test_a_stopped_standby_catches_up_when_started_again(standby, tenants):
    standby.stop_standby()  # immediate: like a crash
    assert not standby.running
    name = add_customer(standby.primary_app_url, tenants["globex"])
    standby.start_standby()
    assert name in customer_names(standby.standby_app_url, tenants["globex"])
    assert name not in customer_names(standby.standby_app_url, tenants["acme"])
