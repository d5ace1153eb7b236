"""Customer request and response schemas. Ids and tenant never come from the body."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import PageQuery, page_of

_name = validate.Length(1, 200)
_phone = validate.Length(1, 50)


class CustomerCreate(Schema):
    name = fields.String(required=True, validate=_name)
    email = fields.Email(required=True, validate=validate.Length(3, 320))
    phone = fields.String(load_default=None, allow_none=True, validate=_phone)


class CustomerPatch(Schema):
    name = fields.String(validate=_name)
    email = fields.Email(validate=validate.Length(3, 320))
    phone = fields.String(allow_none=True, validate=_phone)


class CustomerListQuery(PageQuery):
    q = fields.String(load_default=None, validate=validate.Length(1, 100))


class CustomerOut(Schema):
    id = fields.UUID()
    name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


CustomerPage = page_of(CustomerOut)
