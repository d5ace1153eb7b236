"""Shared fixtures. Integration and API tests run on the real PostgreSQL that scripts/test
provisions, connected as the application's non-superuser role, so RLS is really enforced.

Nothing here needs a database until a fixture is used: the database-backed tiers check for
one in their own conftest (tests/support/database_tier.py); tests/unit needs none."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app.edge.keys import CONTAINER
from app.runtime.config import Config, load_config
from app.runtime.web_app import admin_app, create_app
from tests.support.pgbouncer import pgbouncer_binary, running_pgbouncer
from tests.support.seeder import SeededTenant, Seeder


@pytest.fixture(scope="session")
def seeder() -> Iterator[Seeder]:
    s = Seeder(os.environ["MIGRATION_DATABASE_URL"])
    yield s
    s.close()


@pytest.fixture
def tenant(seeder: Seeder) -> SeededTenant:
    return seeder.tenant("a")


@pytest.fixture
def other_tenant(seeder: Seeder) -> SeededTenant:
    return seeder.tenant("b")


# Modules whose API tests run a second time through PgBouncer in transaction mode
# (isolation, auth, oversell, idempotency): the service must work there unchanged.
THROUGH_PGBOUNCER_TOO = frozenset(
    {
        "tests.api.test_auth",
        "tests.api.test_customers",
        "tests.api.test_orders",
        "tests.api.test_order_concurrency",
        "tests.api.test_idempotency",
    }
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "app_database_url" in metafunc.fixturenames:
        routes = ["direct"]
        if metafunc.module.__name__ in THROUGH_PGBOUNCER_TOO:
            routes.append("pgbouncer")
        metafunc.parametrize("app_database_url", routes, indirect=True)


@pytest.fixture(scope="session")
def _pgbouncer_url() -> Iterator[str | None]:
    if pgbouncer_binary() is None:
        yield None
        return
    with running_pgbouncer(os.environ["DATABASE_URL"]) as url:
        yield url


@pytest.fixture
def app_database_url(request: pytest.FixtureRequest, _pgbouncer_url: str | None) -> str:
    """The URL the service under test connects with: straight to PostgreSQL, or via PgBouncer."""
    if request.param == "direct":
        return os.environ["DATABASE_URL"]
    if _pgbouncer_url is None:
        pytest.skip("pgbouncer binary not found: apt-get install pgbouncer")
    return _pgbouncer_url


@pytest.fixture
def config(app_database_url: str) -> Config:
    base = load_config(
        {
            "DATABASE_URL": app_database_url,
            "MIGRATION_DATABASE_URL": os.environ["MIGRATION_DATABASE_URL"],
            "LOG_LEVEL": "WARNING",
        }
    )
    # Dashboard tests check exact figures right after writing; the cache has its own tests.
    return replace(base, db_pool_max=5, db_pool_min=0, dashboard_cache_ttl=0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI (CI=true, as .ci/run runs) nothing may skip: every component a test needs
    (PgBouncer, wrk, promtool, the server binaries, a browser) is installed there, so a skip
    would only hide a test that did not run."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every component is installed: {reason}"


AppClient = Callable[..., Any]


@pytest.fixture
async def make_client(aiohttp_client: Any, config: Config) -> AppClient:
    """Build the real app (optionally with config overrides) and a test client for it."""

    async def make(**overrides: Any) -> TestClient:
        app = await create_app(replace(config, **overrides))
        return await aiohttp_client(app)

    return make


@pytest.fixture
async def admin_of(aiohttp_client: Any) -> Any:
    """A test client for the admin port of an API test client's app (/metrics, /dashboard)."""

    async def admin(api: TestClient) -> TestClient:
        return await aiohttp_client(admin_app(api.app))

    return admin


@pytest.fixture
async def client(make_client: AppClient) -> AsyncIterator[TestClient]:
    c = await make_client()
    yield c
    assert_pool_idle(c)


def assert_pool_idle(client: TestClient) -> None:
    db = client.app[CONTAINER].db
    assert db.in_use == 0, "a connection is still checked out"
    assert db.pool.freesize == db.pool.size, "pool has connections that are not idle"


async def until_listening(client: TestClient, within: float = 5.0) -> None:
    """Wait until the app's auth cache listens, so whether a token costs a lookup is decided
    by the test, not by how fast the listener connected."""
    cache = client.app[CONTAINER].auth_cache
    deadline = time.monotonic() + within
    while not cache.listening:
        assert time.monotonic() < deadline, f"the listener did not listen within {within}s"
        await asyncio.sleep(0.01)


def auth_headers(tenant: SeededTenant, token: str) -> dict[str, str]:
    return {"X-Tenant": tenant.slug, "Authorization": f"Bearer {token}"}
