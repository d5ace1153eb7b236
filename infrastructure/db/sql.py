"""SQLAlchemy Core statements compiled once to psycopg2 SQL text.

Compiling a statement costs tens of microseconds; doing it per request would be a measurable
share of every read. Repositories build their statements at import and call `sql()` once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ClauseElement

_DIALECT = postgresql.psycopg2.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Sql:
    """Compiled text with %(name)s placeholders, ready for cursor.execute."""

    text: str


def sql(statement: ClauseElement) -> Sql:
    compiled = statement.compile(dialect=_DIALECT)
    # Literal values would become anonymous parameters whose values the text does not carry;
    # every value must be a named bindparam supplied at execute time.
    baked = sorted(k for k, v in compiled.params.items() if v is not None)
    if baked:
        raise ValueError(f"statement {statement!s} bakes in values for {baked}; use bindparam")
    return Sql(str(compiled))


def raw(text: str) -> Sql:
    """Hand-written SQL for what Core cannot say (RLS session settings, JSON aggregates)."""
    return Sql(text)
