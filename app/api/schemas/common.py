"""Schema pieces shared by every resource: the paging query, the page, the problem document."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from app.api.schemas.fields import QueryInteger


class PageQuery(Schema):
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


class Problem(Schema):
    """RFC 9457 problem details; problem types may add members (extensions), so it is open."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    request_id = fields.String()
    errors = fields.Dict()
    shortages = fields.List(fields.Dict())
