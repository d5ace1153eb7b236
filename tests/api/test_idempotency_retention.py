"""Idempotency records expire after 24 hours: purged by the operator command, and an expired
key is treated as new."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

from tests.support.sales import headers_for


async def _create_customer(client, headers, key, email):
    return await client.post(
        "/api/sales/customers",
        json={"name": "Ret", "email": email},
        headers={**headers, "Idempotency-Key": key},
    )


def _age_keys(seeder, tenant, hours: int) -> None:
    seeder.run(
        tenant.id,
        "update idempotency_keys set created_at = now() - %s * interval '1 hour'",
        (hours,),
    )


async def test_the_purge_command_removes_only_expired_keys(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    old_key, new_key = uuid.uuid4().hex, uuid.uuid4().hex
    assert (await _create_customer(client, headers, old_key, f"{old_key}@r.test")).status == 201
    _age_keys(seeder, tenant, 25)
    assert (await _create_customer(client, headers, new_key, f"{new_key}@r.test")).status == 201
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "purge-idempotency-keys"],
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("purged ")
    assert seeder.count(tenant, "idempotency_keys", "key = %s", (old_key,)) == 0
    assert seeder.count(tenant, "idempotency_keys", "key = %s", (new_key,)) == 1


async def test_an_expired_key_runs_the_command_again(client, tenant, seeder):
    headers = headers_for(seeder, tenant)
    key = uuid.uuid4().hex
    assert (await _create_customer(client, headers, key, f"a-{key}@r.test")).status == 201
    _age_keys(seeder, tenant, 25)
    # Not purged yet, but past retention: a different payload is a new request, not a 422.
    resp = await _create_customer(client, headers, key, f"b-{key}@r.test")
    assert resp.status == 201
    assert "Idempotent-Replayed" not in resp.headers
    assert seeder.count(tenant, "customers") == 2
