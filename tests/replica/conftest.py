"""Fixtures for the read-replica tests: one private primary with a real streaming hot standby
for the whole session (tests/support/standby.py), reached directly or each through its own
PgBouncer in transaction mode, and the real service (`python -m app`) reading from it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from tests.faults.service import StartService, service_starter
from tests.support.database_tier import require_database
from tests.support.pgbouncer import pgbouncer_binary, running_pgbouncer
from tests.support.standby import Standby, running_primary_and_standby

SECRET = "replica-tests-consistency-secret"


def pytest_configure(config: pytest.Config) -> None:
    require_database()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "route" in metafunc.fixturenames:
        metafunc.parametrize("route", ["direct", "pgbouncer"], indirect=True, scope="session")


@pytest.fixture(scope="session")
def pair() -> Iterator[Standby]:
    with running_primary_and_standby() as standby:
        yield standby


@dataclass(frozen=True)
class Route:
    """How the service reaches the primary and the standby."""

    name: str
    primary_url: str
    standby_url: str


@pytest.fixture(scope="session")
def route(request: pytest.FixtureRequest, pair: Standby) -> Iterator[Route]:
    if request.param == "direct":
        yield Route("direct", pair.primary_app_url, pair.standby_app_url)
        return
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer binary not found: apt-get install pgbouncer")
    # After a failed server login PgBouncer waits server_login_retry (15 s by default) before
    # it tries again: a restarted standby would sit out that long before it could rejoin.
    quick = {"server_login_retry": "1"}
    with (
        running_pgbouncer(pair.primary_app_url, quick) as primary,
        running_pgbouncer(pair.standby_app_url, quick) as standby,
    ):
        yield Route("pgbouncer", primary, standby)


@pytest.fixture
def standby(pair: Standby) -> Iterator[Standby]:
    """Every test starts and ends with the standby up, replaying and caught up."""
    _restore(pair)
    yield pair
    _restore(pair)


def _restore(pair: Standby) -> None:
    if not pair.running:
        pair.start_standby()
    pair.resume_replay()
    pair.wait_caught_up()


@pytest.fixture
async def start_service(
    pair: Standby, route: Route, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StartService]:
    """Start `python -m app` with the standby as its replica (settings override the defaults)."""
    async with service_starter(
        pair.primary,
        tmp_path_factory,
        DATABASE_URL=route.primary_url,
        DATABASE_REPLICA_URLS=route.standby_url,
        CONSISTENCY_TOKEN_SECRET=SECRET,
        LOG_LEVEL="INFO",
    ) as start:
        yield start
