"""The auth-invalidation triggers (migration 0006) on the real database: a change that alters
access notifies, recording when a key was last used does not (each worker writes its keys'
uses in batches, infrastructure/key_uses.py, and a notification would empty every worker's
cache entry for the key)."""

from __future__ import annotations

import os
import select
import time
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from domain.model import tokens
from infrastructure.key_uses import KeyUses
from infrastructure.repositories.identity_cache import AUTH_CHANNEL
from infrastructure.unit_of_work import PgUnitOfWork


@pytest.fixture
def heard():
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"listen {AUTH_CHANNEL}")
    yield conn
    conn.close()


def payloads(conn, within: float) -> list[str]:
    """Every notification that arrives within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        select.select([conn], [], [], max(0.0, deadline - time.monotonic()))
        conn.poll()
    found = [n.payload for n in conn.notifies]
    conn.notifies.clear()
    return found


def test_recording_a_keys_last_use_notifies_nobody_but_revoking_it_does(heard, seeder, tenant):
    key = seeder.api_key(tenant)
    expected = f"api_key:{tenant.id}:{tokens.digest(key).hex()}"
    where = "where key_hash = %s"
    payloads(heard, 0.1)  # nothing left over from setting up

    seeder.run(
        tenant.id, f"update api_keys set last_used_at = now() {where}", (tokens.digest(key),)
    )
    assert expected not in payloads(heard, 0.5)

    seeder.run(tenant.id, f"update api_keys set revoked_at = now() {where}", (tokens.digest(key),))
    assert expected in payloads(heard, 2.0)


async def test_key_uses_written_in_the_background_land_and_notify_nobody(heard, db, seeder, tenant):
    keys = [seeder.api_key(tenant) for _ in range(3)]
    digests = [tokens.digest(key) for key in keys]
    rows = seeder.run(tenant.id, "select id from api_keys where key_hash = any(%s)", (digests,))
    key_ids = [row[0] for row in rows]
    payloads(heard, 0.1)
    key_uses = KeyUses(lambda tenant_id, claim=None: PgUnitOfWork(db, tenant_id, claim), 60)
    at = datetime.now(UTC)
    for key_id in key_ids:
        key_uses.note(tenant.id, key_id, at - timedelta(seconds=5))
        key_uses.note(tenant.id, key_id, at)  # the latest use wins

    await key_uses.flush()

    assert key_uses.pending == 0
    stored = seeder.run(
        tenant.id, "select last_used_at from api_keys where key_hash = any(%s)", (digests,)
    )
    assert [row[0] for row in stored] == [at] * 3
    assert payloads(heard, 0.5) == []
