"""Customer request and response schemas. Ids and tenant never come from the body."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import PageQuery, page_of
from app.api.schemas.fields import Text, TrimmedEmail

_name = validate.Length(1, 200)
_phone = validate.Length(1, 50)


class CustomerCreate(Schema):
    name = Text(required=True, validate=_name)
    email = TrimmedEmail(required=True, validate=validate.Length(3, 320))
    phone = Text(load_default=None, allow_none=True, validate=_phone)


class CustomerPatch(Schema):
    name = Text(validate=_name)
    email = TrimmedEmail(validate=validate.Length(3, 320))
    phone = Text(allow_none=True, validate=_phone)


class CustomerListQuery(PageQuery):
    q = fields.String(
        load_default=None,
        validate=validate.Length(1, 100),
        metadata={"description": "Only customers whose name or email contains this, ignoring case"},
    )
    email = TrimmedEmail(
        load_default=None,
        validate=validate.Length(3, 320),
        metadata={
            "description": "Only the customer with exactly this email (compared in lower case)"
        },
    )


class CustomerOut(Schema):
    id = fields.UUID()
    name = fields.String()
    email = fields.String()
    phone = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


CustomerPage = page_of(CustomerOut)
