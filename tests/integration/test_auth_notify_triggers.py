"""The auth-invalidation triggers (migration 0006) on the real database: a change that alters
access notifies, recording when a key was last used does not (issue 10 records it at most once
a minute per key, and a notification would empty every worker's cache entry for the key)."""

from __future__ import annotations

import os
import select
import time

import psycopg2
import pytest

from domain.model import tokens
from infrastructure.repositories.identity_cache import AUTH_CHANNEL


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
