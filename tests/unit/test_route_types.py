"""The route table and the handlers agree on types: what a row's schemas load is what its
handler's `Call[body, query]` declares, so mypy's checks of the handler hold on the wire; and
what a row documents as its answer is made from the type its handler returns (one source)."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from app.api.outputs import LoginAnswer
from app.api.routes import ROUTES
from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into, PageQuery, page_of
from app.edge.call import Call
from app.edge.rules import Route
from domain.model.paging import Listing, Page


def loads_into(schema: type[Into] | None) -> object:
    """The type a schema's load returns."""
    if schema is None:
        return type(None)
    if schema.make not in (Into.make, PageQuery.make):
        return typing.get_type_hints(schema.make)["return"]
    if issubclass(schema, PageQuery):
        where = schema.into
        return Listing[where] if isinstance(where, type) else Listing[None]  # type: ignore[valid-type]
    return schema.into


def declared(route: Route) -> tuple[object, object]:
    """The (body, query) types of the handler's `Call`."""
    hint = typing.get_type_hints(route.handler)["call"]
    assert typing.get_origin(hint) is Call, f"{route.name}: the handler takes a Call[body, query]"
    body, query = typing.get_args(hint)
    return _none_as_type(body), _none_as_type(query)


def _none_as_type(hint: Any) -> object:
    if hint is None:
        return type(None)
    if typing.get_origin(hint) is Listing and typing.get_args(hint) == (type(None),):
        return Listing[None]
    return hint


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_a_handler_is_given_what_its_rows_schemas_load(route: Route) -> None:
    for schema in (route.body, route.query):
        assert schema is None or issubclass(schema, Into), f"{route.name}: {schema} loads a dict"
    body, query = declared(route)
    assert (loads_into(route.body), loads_into(route.query)) == (body, query)  # type: ignore[arg-type]


# Handlers that build their own response (to set a cookie), from this answer type.
BUILT_BY_HAND = {"auth.login": LoginAnswer}


@pytest.mark.parametrize("route", [r for r in ROUTES if r.response], ids=lambda r: r.name)
def test_a_rows_documented_answer_is_made_from_what_its_handler_returns(route: Route) -> None:
    returned = BUILT_BY_HAND.get(route.name) or typing.get_type_hints(route.handler)["return"]
    if typing.get_origin(returned) is Page:
        (item,) = typing.get_args(returned)
        assert route.response is page_of(answer_schema(item))
    else:
        assert route.response is answer_schema(returned)
