"""The service's own database errors, and the one place driver errors are translated to them.

Nothing outside infrastructure/db/ sees a psycopg2 or aiopg type: repositories catch
`UniqueViolation` / `ForeignKeyViolation`, the command runner retries `TransientConflict`,
and the HTTP edge maps each class here to a problem once (app/edge/problems.py).
"""

from __future__ import annotations

import psycopg2
import psycopg2.errors


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


class ServerSilent(QueryTimeout):
    """The server stopped answering mid-statement (the driver's own timer ran out, and the
    connection is closed): unlike a statement timeout, what the statement did is unknown."""

    def __init__(self) -> None:
        super().__init__("the database did not answer in time")


class ConnectionLost(DatabaseUnavailable):
    """The server went away under a statement (refused, reset, shut down: 57P01/57P02/57P03):
    nothing of the transaction committed, unless COMMIT itself was the statement."""


class ReadOnlyServer(ConnectionLost):
    """A write reached a server that is read-only now (25006): a primary turned standby."""


class NoServer(DatabaseUnavailable):
    """No server in the host list answers with the role wanted (the breaker is open)."""

    def __init__(self, reason: str) -> None:
        super().__init__("no database server is reachable; retry shortly")
        self.reason = reason


class CommitOutcomeUnknown(DatabaseUnavailable):
    """The connection was lost after COMMIT was sent: the command may or may not have
    committed. Retrying with the same Idempotency-Key is safe: it replays or places it once."""

    def __init__(self) -> None:
        super().__init__(
            "the database connection was lost while the command committed; it may or may not"
            " have taken effect: retry with the same Idempotency-Key"
        )


class ConsistencyUnavailable(DatabaseUnavailable):
    """The read's Consistency-Token is ahead of every replica and the primary is unreachable."""

    def __init__(self) -> None:
        super().__init__(
            "no reachable server has caught up with the Consistency-Token yet; retry shortly"
        )


class TransientConflict(Exception):
    """Serialization failure (40001) or deadlock (40P01): the whole command may be retried."""

    retry_after = 1
    detail = "the request collided with concurrent changes; retry it"

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"transient conflict ({sqlstate})")
        self.sqlstate = sqlstate


class InvalidValue(Exception):
    """A value the schema let through but PostgreSQL cannot store (class 22, data exception)."""

    detail = "a value is out of the range the database can store"


class ConstraintViolation(Exception):
    """An integrity constraint refused a write; repositories turn it into a domain error."""

    def __init__(self, constraint: str | None) -> None:
        super().__init__(f"constraint {constraint} violated")
        self.constraint = constraint


class UniqueViolation(ConstraintViolation):
    """23505."""


class ForeignKeyViolation(ConstraintViolation):
    """23503."""


class DatabaseError(Exception):
    """An error the service does not expect from the database (a bug on our side): a 500."""

    def __init__(self, sqlstate: str | None, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


_TRANSIENT = frozenset({"40001", "40P01"})
# The server is going away or not there yet: admin_shutdown, crash_shutdown, cannot_connect_now.
_SERVER_GONE = frozenset({"57P01", "57P02", "57P03"})


def translate(exc: BaseException) -> BaseException:
    """The service's error for a driver error or a socket error; anything else passes as is."""
    code = getattr(exc, "pgcode", None)
    if code in _TRANSIENT:
        return TransientConflict(code)
    if code == "57014":
        return QueryTimeout()
    if code == "25006":
        return ReadOnlyServer("the database server is read-only now")
    if code in _SERVER_GONE:
        return ConnectionLost()
    if isinstance(exc, psycopg2.errors.UniqueViolation):
        return UniqueViolation(exc.diag.constraint_name)
    if isinstance(exc, psycopg2.errors.ForeignKeyViolation):
        return ForeignKeyViolation(exc.diag.constraint_name)
    if isinstance(exc, psycopg2.IntegrityError):
        return ConstraintViolation(exc.diag.constraint_name)
    if isinstance(exc, psycopg2.DataError):
        return InvalidValue()
    if isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError | OSError):
        return ConnectionLost() if code is None else DatabaseUnavailable()
    if isinstance(exc, psycopg2.Error):
        return DatabaseError(code, str(exc).strip())
    return exc
