"""Schema pieces shared by every resource: the paging query, the page, the problem document."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

from marshmallow import INCLUDE, Schema, fields, post_load, validate

from app.api.schemas.fields import QueryInteger
from domain.model.paging import Listing


class Into(Schema):
    """A request schema whose load gives a frozen domain object (`into`), not a dict: the
    handler's `Call` is typed from the wire on, and mypy checks what the handler does with it."""

    into: ClassVar[Callable[..., Any]]

    @post_load
    def _into(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.make(data)

    def make(self, data: dict[str, Any]) -> Any:
        return type(self).into(**data)


class PageQuery(Into):
    """`limit` and `cursor`, and in a subclass the filter fields: a `Listing` of `into`."""

    into: ClassVar[Callable[..., Any]] = lambda: None  # no filter: every item
    limit = QueryInteger(
        load_default=20,
        validate=validate.Range(1, 100),
        metadata={"description": "Items per page, 1 to 100 (default 20)"},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(1, 200),
        metadata={
            "description": "The next_cursor of the previous page; send the same filters with it"
        },
    )

    def make(self, data: dict[str, Any]) -> Listing[Any]:
        limit, cursor = data.pop("limit"), data.pop("cursor")
        return Listing(type(self).into(**data), limit, cursor)


@functools.cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The one page shape: a keyset page of `item`s and the cursor of the next page."""
    name = item.__name__.removesuffix("Out") + "Page"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        },
        name=name,
    )


class Shortage(Schema):
    """One product an order asked more of than is in stock."""

    product_id = fields.UUID(required=True)
    requested = fields.Integer(required=True)
    available = fields.Integer(required=True)


class Problem(Schema):
    """RFC 9457 problem details; problem types may add members (extensions), so it is open."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    request_id = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={
            "description": "What was wrong, by field: a dotted path into the request "
            "(`lines.0.quantity`) or `_schema` for the request as a whole -> messages"
        },
    )
    shortages = fields.List(
        fields.Nested(Shortage),
        metadata={"description": "insufficient-stock: every product short, with its stock"},
    )
