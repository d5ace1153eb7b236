"""The api tests need the database scripts/test provisions."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import AppClient, until_listening
from tests.support.database_tier import require_database


def pytest_configure() -> None:
    require_database()


@pytest.fixture
async def cached(make_client: AppClient) -> TestClient:
    """An app whose principal cache already listens for revocations."""
    client = await make_client()
    await until_listening(client)
    return client
