"""Fixtures for the failover tests: a private primary with a streaming standby that the tests
stop, promote and rebuild (never the shared server), and the real service reaching them
through a libpq multi-host URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.faults.service import StartService, service_starter
from tests.support.database_tier import require_database
from tests.support.failover_pair import Pair, new_pair

SECRET = "failover-tests-consistency-secret"


def pytest_configure(config: pytest.Config) -> None:
    require_database()


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    yield from new_pair()


@pytest.fixture
async def start_service(
    pair: Pair, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StartService]:
    """Start `python -m app` on the pair (settings override the defaults)."""
    async with service_starter(pair.primary, tmp_path_factory, LOG_LEVEL="INFO") as start:
        yield start
