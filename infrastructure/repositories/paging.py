"""Keyset paging shared by the list reads: newest first, id breaks ties, limit+1 to see more."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy as sa

from domain.model.paging import Keyset, Page, PageRequest

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
