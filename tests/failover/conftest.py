"""Fixtures for the failover tests: a private primary with a streaming standby that the tests
stop, promote and rebuild (never the shared server), and the real service reaching them
through a libpq multi-host URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.faults.service import Service
from tests.support.database_tier import require_database
from tests.support.failover_pair import Pair, new_pair

SECRET = "failover-tests-consistency-secret"


def pytest_configure(config: pytest.Config) -> None:
    require_database()


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    yield from new_pair()


StartService = Callable[..., Awaitable[Service]]


@pytest.fixture
async def start_service(
    pair: Pair, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StartService]:
    """Start `python -m app` on the pair (settings override the defaults); every process
    started is killed at teardown if it still runs."""
    started: list[Service] = []

    async def start(**settings: Any) -> Service:
        log = tmp_path_factory.mktemp("service") / "service.log"
        service = Service(pair.primary, log, **{"LOG_LEVEL": "INFO", **settings})
        started.append(service)
        await service.start()
        return service

    yield start
    for service in started:
        await service.close()
