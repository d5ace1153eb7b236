"""Keyset paging shared by the list reads: newest first, id breaks ties, limit+1 to see more;
and `FilteredList`, the one way a repository builds a filtered list's statement."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import sqlalchemy as sa

from domain.model.paging import Keyset, Page, PageRequest
from infrastructure.db.sql import Sql

T = TypeVar("T")


def after(created: sa.ColumnElement[Any], ident: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    return sa.tuple_(created, ident) < sa.tuple_(
        sa.bindparam("after_created"), sa.bindparam("after_id")
    )


def page_params(page: PageRequest) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": page.limit + 1}
    if page.after is not None:
        params["after_created"] = page.after.created_at
        params["after_id"] = page.after.id
    return params


def to_page(
    rows: Sequence[Any],
    page: PageRequest,
    build: Callable[[Any], T],
    key: Callable[[T], tuple[datetime, UUID]],
) -> Page[T]:
    items = [build(row) for row in rows[: page.limit]]
    more = len(rows) > page.limit
    cursor = Keyset(*key(items[-1])).encode() if more and items else None
    return Page(items, cursor)


def like_pattern(q: str) -> str:
    """Match q literally: LIKE wildcards in it are escaped."""
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


C = TypeVar("C")  # a condition: a Core clause, or a fragment of SQL text (orders)


class FilteredList(Generic[C]):
    """The one idiom for a filtered, keyset-paged list.

    A filter object (`OrderFilter`, `CustomerFilter`, ... in domain/ports.py) names its
    conditions by field: every field that is not None adds the condition of that name (and
    its value, through `values` where it needs a form of its own, such as a LIKE pattern).
    Each shape of filter (which fields are set, and whether a page comes after another) gets
    its own statement, built by `build` from the conditions in use the first time that shape
    is asked for and kept: the planner sees only the predicates in use, and nothing is
    compiled twice.
    """

    def __init__(
        self,
        build: Callable[[list[C]], Sql],
        after: C,
        conditions: Mapping[str, C],
        values: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self._build = build
        self._after = after
        self._conditions = conditions
        self._values = values or {}
        self._statements: dict[tuple[bool, tuple[str, ...]], Sql] = {}

    def query(self, page: PageRequest, where: object) -> tuple[Sql, dict[str, Any]]:
        """The statement for this filter's shape, and its parameters."""
        params = page_params(page)
        names = []
        for name in self._conditions:
            value = getattr(where, name)
            if value is not None:
                convert = self._values.get(name)
                params[name] = value if convert is None else convert(value)
                names.append(name)
        shape = (page.after is not None, tuple(names))
        stmt = self._statements.get(shape)
        if stmt is None:
            stmt = self._statements[shape] = self._statement(*shape)
        return stmt, params

    def _statement(self, with_after: bool, names: tuple[str, ...]) -> Sql:
        used = [self._after] if with_after else []
        return self._build(used + [self._conditions[name] for name in names])
