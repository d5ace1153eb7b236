"""The auth cache's listener loses its connection: the worker fails closed at once (cache
emptied, every token looked up), listens again by itself, and the cache serves again."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.model import tokens
from tests.faults.checks import eventually, sessions_of_the_service
from tests.faults.service import API, TENANT, USER, Service
from tests.support.pgcluster import PgCluster

pytestmark = pytest.mark.faults

LISTENER = "sales-api-listener"  # the listener's application_name


async def metric(service: Service, name: str) -> float:
    text = await service.metrics_text()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


async def listener_up(service: Service, up: bool, within: float) -> bool:
    async def check() -> bool:
        return await metric(service, "auth_listener_up") == float(up)

    return await eventually(check, within, pause=0.02)


def new_session(cluster: PgCluster) -> dict[str, str]:
    """A session of the demo admin, written as an operator would; its request headers."""
    token = tokens.new_session_token()
    cluster.query(
        "insert into sessions (id, tenant_id, user_id, expires_at)"
        " select %s, u.tenant_id, u.id, %s from users u where u.email = %s",
        (tokens.digest(token), datetime.now(UTC) + timedelta(hours=1), USER),
    )
    return {"X-Tenant": TENANT, "Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def no_new_app_sessions(cluster: PgCluster) -> Iterator[None]:
    """The app role may keep the sessions it has but open no more: the pool's stay, a
    listener that lost its own cannot come back."""
    held = len(sessions_of_the_service(cluster))
    cluster.query(f"alter role sales_app connection limit {held}")
    try:
        yield
    finally:
        cluster.query("alter role sales_app connection limit -1")


async def test_a_terminated_listener_fails_closed_listens_again_and_the_cache_serves(
    cluster, start_service
):
    service = await start_service()
    assert await listener_up(service, True, within=10)
    revoked, kept = new_session(cluster), new_session(cluster)
    for headers in (revoked, kept, revoked, kept):
        assert (await service.request("read", "GET", f"{API}/auth/me", headers=headers)).ok
    assert await metric(service, "auth_cache_hits_total") == 2

    with no_new_app_sessions(cluster):
        assert cluster.terminate_backends(LISTENER)
        assert await listener_up(service, False, within=5)
        cluster.query(
            "update sessions set revoked_at = now() where id = %s",
            (tokens.digest(revoked["Authorization"].removeprefix("Bearer ")),),
        )
        # no notification can reach this worker now; the cache is bypassed, so: refused
        me = await service.request("read", "GET", f"{API}/auth/me", headers=revoked)
        assert me.status == 401
        assert (await service.request("read", "GET", f"{API}/auth/me", headers=kept)).ok
        assert await metric(service, "auth_cache_bypassed_total") == 2
        assert await metric(service, "auth_listener_outages_total") == 1

    assert await listener_up(service, True, within=15)
    for _ in range(2):
        assert (await service.request("read", "GET", f"{API}/auth/me", headers=kept)).ok
    assert await metric(service, "auth_cache_hits_total") == 3  # serving from the cache again
