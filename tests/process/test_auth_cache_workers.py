"""Two workers, each with its own principal cache: a revocation made anywhere, by logout on
one worker or by plain SQL, is refused by every worker within one second.

Which worker answers is the kernel's choice (SO_REUSEPORT spreads connections by their
addresses), so every request here opens a connection of its own: 30 of them reach both
workers but for a chance of 2^-29, whether warming both caches or showing that both refuse.
"""

from __future__ import annotations

import http.client
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

from domain.model import tokens
from tests.support.seeder import SeededTenant, Seeder
from tests.support.server import serving
from tests.support.worker_log import events, until

pytestmark = pytest.mark.slow

WORKERS = 2
SPREAD = 30  # fresh connections per round
ME = "/api/sales/auth/me"


@dataclass
class Running:
    base: str
    log: Path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    log = tmp_path_factory.mktemp("workers") / "service.log"
    env = {
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        "DB_POOL_MIN": "0",
        "DB_POOL_MAX": "4",
        # Every round of a refusal is SPREAD failed lookups from one address: not a flood.
        "AUTH_FAILURE_BURST": "10000",
    }
    with serving(env, log, workers=WORKERS) as running:
        until(lambda: events(log, "listener_up") >= WORKERS, within=20, what="listeners")
        yield Running(running.base, log)


def _status(base: str, method: str, path: str, headers: dict[str, str], body: object = None) -> int:
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        payload = json.dumps(body) if body is not None else None
        conn.request(
            method, path, body=payload, headers={"Content-Type": "application/json", **headers}
        )
        return conn.getresponse().status
    finally:
        conn.close()


def _spread(
    base: str, method: str, path: str, headers: dict[str, str], body: object = None
) -> set[int]:
    """The statuses of SPREAD requests, each on a fresh connection."""
    return {_status(base, method, path, headers, body) for _ in range(SPREAD)}


def _every_worker_answers(base, status, method, path, headers, body=None) -> float:
    """Seconds until a whole round of fresh connections answers `status`; at most 1 s."""
    return until(lambda: _spread(base, method, path, headers, body) == {status}, 1.0, f"{status}")


def _headers(tenant: SeededTenant, token: str) -> dict[str, str]:
    return {"X-Tenant": tenant.slug, "Authorization": f"Bearer {token}"}


def _warm(base: str, headers: dict[str, str]) -> None:
    assert _spread(base, "GET", ME, headers) == {200}


def test_a_logout_on_one_worker_is_refused_by_every_worker(service, seeder: Seeder, tenant):
    headers = _headers(tenant, seeder.session(tenant, tenant.users["sales"]))
    hits = events(service.log, "request", auth_cache="hit")
    misses = events(service.log, "request", auth_cache="miss")
    _warm(service.base, headers)
    # One miss per worker, so both workers answered and hold the token; the rest were hits.
    assert events(service.log, "request", auth_cache="miss") - misses == WORKERS
    assert events(service.log, "request", auth_cache="hit") - hits == SPREAD - WORKERS
    assert _status(service.base, "POST", "/api/sales/auth/logout", headers) == 204
    _every_worker_answers(service.base, 401, "GET", ME, headers)


def test_a_session_revoked_by_sql_is_refused_by_every_worker(service, seeder: Seeder, tenant):
    token = seeder.session(tenant, tenant.users["sales"])
    headers = _headers(tenant, token)
    _warm(service.base, headers)
    seeder.run(
        tenant.id, "update sessions set revoked_at = now() where id = %s", (tokens.digest(token),)
    )
    _every_worker_answers(service.base, 401, "GET", ME, headers)


def test_an_api_key_revoked_by_sql_is_refused_by_every_worker(service, seeder: Seeder, tenant):
    key = seeder.api_key(tenant)
    headers = _headers(tenant, key)
    _warm(service.base, headers)
    seeder.run(
        tenant.id,
        "update api_keys set revoked_at = now() where key_hash = %s",
        (tokens.digest(key),),
    )
    _every_worker_answers(service.base, 401, "GET", ME, headers)


def test_a_role_lowered_by_sql_is_refused_an_admin_action_by_every_worker(
    service, seeder: Seeder, tenant
):
    admin = seeder.user(tenant, "admin")
    headers = _headers(tenant, seeder.session(tenant, admin))
    action = f"/api/sales/products/{uuid.uuid4()}"  # an admin may look: 404; others: 403
    assert _spread(service.base, "PATCH", action, headers, {"active": True}) == {404}
    seeder.run(tenant.id, "update users set role = 'sales' where id = %s", (str(admin.id),))
    _every_worker_answers(service.base, 403, "PATCH", action, headers, {"active": True})


def test_deleting_a_user_by_sql_refuses_its_keys_and_their_children_on_every_worker(
    service, seeder: Seeder, tenant
):
    admin = seeder.user(tenant, "admin")
    session = _headers(tenant, seeder.session(tenant, admin))
    key = _create_key(service.base, session)
    child = _create_key(service.base, _headers(tenant, key))
    for token in (key, child):
        _warm(service.base, _headers(tenant, token))
    seeder.run(tenant.id, "delete from users where id = %s", (str(admin.id),))
    for token in (key, child):
        _every_worker_answers(service.base, 401, "GET", ME, _headers(tenant, token))


def _create_key(base: str, headers: dict[str, str]) -> str:
    url = urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        body = json.dumps({"name": "lineage", "role": "admin"})
        conn.request(
            "POST",
            "/api/sales/api-keys",
            body=body,
            headers={"Content-Type": "application/json", **headers},
        )
        resp = conn.getresponse()
        assert resp.status == 201
        return str(json.loads(resp.read())["key"])
    finally:
        conn.close()


def test_workers_share_the_count_of_failed_logins(service, seeder: Seeder, tenant):
    body = {"email": tenant.users["sales"].email, "password": "wrong"}
    headers = {"X-Tenant": tenant.slug}
    statuses = [
        _status(service.base, "POST", "/api/sales/auth/login", headers, body) for _ in range(12)
    ]
    # Spread over both workers (a fresh connection each), yet the fifth failure is the last:
    # per-worker counts would let up to twice as many through.
    assert statuses == [401] * 5 + [429] * 7


def test_under_gunicorn_a_request_the_parser_refuses_is_a_plain_problem(service):
    url = urlparse(service.base)
    with socket.create_connection((url.hostname, url.port), timeout=5) as sock:
        sock.sendall(
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
        )
        answer = sock.recv(65536)
    assert answer.split(b" ")[1] == b"400", answer
    assert b"application/problem+json" in answer and b"\r\nServer: sales-api\r\n" in answer
