"""Schema pieces shared by every resource: paging query, problem document."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class PageQuery(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(1, 200))


class Problem(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    request_id = fields.String()
    errors = fields.Dict()
