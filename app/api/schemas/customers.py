"""Customer request and response schemas. Ids and tenant never come from the body."""

from __future__ import annotations

from typing import Any

from marshmallow import validate

from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into, PageQuery, page_of
from app.api.schemas.fields import Text, TrimmedEmail
from app.api.schemas.filters import containing
from domain.model.customers import Customer, CustomerChanges, NewCustomer
from domain.ports import CustomerFilter

_name = validate.Length(1, 200)
_phone = validate.Length(1, 50)


class CustomerCreate(Into):
    into = NewCustomer
    name = Text(required=True, validate=_name)
    email = TrimmedEmail(required=True, validate=validate.Length(3, 320))
    phone = Text(load_default=None, allow_none=True, validate=_phone)


class CustomerPatch(Into):
    name = Text(validate=_name)
    email = TrimmedEmail(validate=validate.Length(3, 320))
    phone = Text(allow_none=True, validate=_phone)

    def make(self, data: dict[str, Any]) -> CustomerChanges:
        # An absent field stays as it is; "phone": null clears the phone.
        clear_phone = "phone" in data and data["phone"] is None
        return CustomerChanges(**data, clear_phone=clear_phone)


class CustomerListQuery(PageQuery):
    into = CustomerFilter
    q = containing("customers whose name or email")
    email = TrimmedEmail(
        load_default=None,
        validate=validate.Length(3, 320),
        metadata={
            "description": "Only the customer with exactly this email (compared in lower case)"
        },
    )


CustomerOut = answer_schema(Customer)


CustomerPage = page_of(CustomerOut)
