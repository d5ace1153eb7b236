"""Infrastructure faults the HTTP edge answers with a retryable 503."""

from __future__ import annotations


class DatabaseUnavailable(Exception):
    """The database cannot be reached or dropped the connection; the caller may retry."""

    retry_after = 1

    def __init__(self, detail: str = "the database is unavailable") -> None:
        super().__init__(detail)
        self.detail = detail


class PoolTimeout(DatabaseUnavailable):
    """No connection became free within the acquire timeout."""

    def __init__(self, detail: str = "no database connection became free in time") -> None:
        super().__init__(detail)


class PoolSaturated(DatabaseUnavailable):
    """Too many requests already wait for a connection; refused at once to bound latency."""

    def __init__(
        self, detail: str = "too many requests are waiting for a database connection"
    ) -> None:
        super().__init__(detail)


class QueryTimeout(DatabaseUnavailable):
    """statement_timeout cancelled the query."""

    def __init__(self, detail: str = "the database query took too long") -> None:
        super().__init__(detail)
