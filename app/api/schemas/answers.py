"""Response schemas made from the types the handlers return: one source for an answer and its
documentation.

An answer is the handler's result as `json_bytes` writes it: every field of its dataclass (a
domain type, or an output type of app/api/outputs.py). Its schema in the OpenAPI document is
made here from the same dataclass, so a field added to a type is on the wire and in the
document at once, and `tests/unit/test_route_types.py` checks that each row's response schema
is the one made from its handler's return type.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from marshmallow import Schema, fields, validate

from app.api.outputs import (
    CreatedApiKey,
    CreatedWebhookEndpoint,
    FeedAnswer,
    FeedItem,
    LoginAnswer,
    Me,
    User,
)
from app.api.schemas.fields import Money
from domain.model.dashboard import LowStockItem
from domain.model.orders import OrderLine
from domain.model.webhooks import WebhookDelivery, WebhookEndpoint

_SIMPLE: dict[object, type[fields.Field[Any]]] = {
    UUID: fields.UUID,
    str: fields.String,
    int: fields.Integer,
    bool: fields.Boolean,
    datetime: fields.DateTime,
    Decimal: Money,
    orjson.Fragment: fields.Dict,  # JSON stored as sent (the change feed's `data`)
}


@functools.cache
def answer_schema(cls: type) -> type[Schema]:
    """The schema of a dataclass answer, one per class (named in NAMES, else <class>Out)."""
    hints = typing.get_type_hints(cls)
    declared = {f.name: _field(hints[f.name], dict(f.metadata)) for f in dataclasses.fields(cls)}
    return Schema.from_dict(declared, name=NAMES.get(cls, cls.__name__ + "Out"))


def _field(hint: Any, metadata: dict[str, Any]) -> fields.Field[Any]:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return _field_of(inner, metadata, allow_none=True)
    return _field_of(hint, metadata, allow_none=False)


def _field_of(hint: Any, metadata: dict[str, Any], allow_none: bool) -> fields.Field[Any]:
    kwargs: dict[str, Any] = {"allow_none": allow_none}
    if metadata:
        kwargs["metadata"] = metadata
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return fields.String(validate=validate.OneOf(args), **kwargs)
    if origin in (list, tuple):
        return fields.List(_field(args[0], {}), **kwargs)
    if dataclasses.is_dataclass(hint):
        assert isinstance(hint, type)
        return fields.Nested(answer_schema(hint), **kwargs)
    return _SIMPLE[hint](**kwargs)


# Schema names that are not <class>Out (the document's component names predate this module).
NAMES: dict[type, str] = {
    OrderLine: "LineOut",
    LowStockItem: "LowStockOut",
    Me: "PrincipalOut",
    LoginAnswer: "LoginResponse",
    User: "UserOut",
    CreatedApiKey: "ApiKeyCreated",
    FeedItem: "EventOut",
    FeedAnswer: "EventPage",
    WebhookEndpoint: "WebhookOut",
    CreatedWebhookEndpoint: "WebhookCreated",
    WebhookDelivery: "DeliveryOut",
}
