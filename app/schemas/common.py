"""Schema pieces shared by every resource: paging query, problem document."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate


class PageQuery(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(1, 200))


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
