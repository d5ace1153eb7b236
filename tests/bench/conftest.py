"""The bench tests need the database scripts/test provisions."""

from tests.support.database_tier import require_database


def pytest_configure() -> None:
    require_database()
