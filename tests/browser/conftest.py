"""The browser tests need the database scripts/test provisions, and Debian's chromium."""

from tests.support.database_tier import require_database


def pytest_configure() -> None:
    require_database()
