"""SQLAlchemy Core statements compiled once to psycopg2 SQL text.

Compiling a statement costs tens of microseconds; doing it per request would be a measurable
share of a 1 ms read. Repositories build their statements at import and call `sql()` once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ClauseElement

_DIALECT = postgresql.psycopg2.dialect()  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Sql:
    """Compiled text with %(name)s placeholders, ready for cursor.execute."""

    text: str
    name: str = ""


def sql(statement: ClauseElement, name: str = "") -> Sql:
    compiled = statement.compile(dialect=_DIALECT)
    # Literal values would become anonymous parameters whose values the text does not carry;
    # every value must be a named bindparam supplied at execute time.
    baked = sorted(k for k, v in compiled.params.items() if v is not None)
    if baked:
        raise ValueError(
            f"statement {name or statement!s} bakes in values for {baked}; use bindparam"
        )
    return Sql(str(compiled), name)


def raw(text: str, name: str = "") -> Sql:
    """Hand-written SQL for what Core cannot say (RLS session settings)."""
    return Sql(text, name)
