"""FilteredList, the one idiom for filtered keyset-paged lists: one statement per filter shape,
built once, with only the conditions of the fields that are set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from domain.model.paging import Keyset, PageRequest
from infrastructure.db.sql import Sql, raw
from infrastructure.repositories.paging import FilteredList


@dataclass(frozen=True)
class Where:
    status: str | None = None
    q: str | None = None


def listing() -> tuple[FilteredList[str], list[list[str]]]:
    built: list[list[str]] = []

    def build(conditions: list[str]) -> Sql:
        built.append(conditions)
        return raw(" and ".join(["t", *conditions]))

    made = FilteredList(
        build, after="after", conditions={"status": "s", "q": "q"}, values={"q": str.upper}
    )
    return made, built


def test_only_the_fields_that_are_set_add_their_condition_and_value() -> None:
    made, _ = listing()
    stmt, params = made.query(PageRequest(5), Where(q="ab"))
    assert stmt.text == "t and q"
    assert params == {"limit": 6, "q": "AB"}


def test_a_later_page_adds_the_keyset_condition() -> None:
    made, _ = listing()
    after = Keyset(datetime(2025, 1, 1, tzinfo=UTC), uuid4())
    stmt, params = made.query(PageRequest(5, after), Where(status="open"))
    assert stmt.text == "t and after and s"
    assert (params["after_created"], params["after_id"], params["status"]) == (
        after.created_at,
        after.id,
        "open",
    )


def test_each_shape_is_built_once() -> None:
    made, built = listing()
    for _ in range(3):
        made.query(PageRequest(), Where(status="open"))
        made.query(PageRequest(), Where())
    assert built == [["s"], []]
