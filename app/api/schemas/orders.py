"""Order schemas. Money is a string in JSON, never a float."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into, PageQuery, page_of
from app.api.schemas.fields import StrictInteger, Text
from app.api.schemas.filters import at_or_after, before, in_status
from domain.model.orders import MAX_LINES, Cancellation, LineRequest, Order, PlaceOrder
from domain.ports import OrderFilter

ORDER_STATUSES = ("placed", "cancelled")


class LineIn(Into):
    into = LineRequest
    product_id = fields.UUID(required=True)
    quantity = StrictInteger(required=True, validate=validate.Range(1, 1_000_000))


class OrderCreate(Into):
    customer_id = fields.UUID(required=True)
    lines = fields.List(
        fields.Nested(LineIn), required=True, validate=validate.Length(1, MAX_LINES)
    )
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))

    def make(self, data: dict[str, Any]) -> PlaceOrder:
        return PlaceOrder(data["customer_id"], tuple(data["lines"]), data["note"])


class OrderListQuery(PageQuery):
    into = OrderFilter
    status = in_status(ORDER_STATUSES, "orders")
    customer_id = fields.UUID(
        load_default=None, metadata={"description": "Only this customer's orders"}
    )
    since = at_or_after("orders placed")
    until = before("orders placed")


class CancelRequest(Into):
    into = Cancellation
    reason = Text(load_default=None, validate=validate.Length(1, 500))


OrderOut = answer_schema(Order)


OrderPage = page_of(OrderOut)
