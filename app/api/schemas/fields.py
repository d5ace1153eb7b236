"""Strict field types: JSON booleans are not integers, money has at most two decimals."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, fields

from domain.model.money import CENT, MAX_PRICE


class StrictInteger(fields.Integer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


def _money_rules(value: Decimal) -> None:
    # A plain function, not validate.Range: the OpenAPI document describes money as a string,
    # and a numeric minimum on a string would make the document invalid.
    if value < 0 or value > MAX_PRICE:
        raise ValidationError(f"must be between 0 and {MAX_PRICE}")
    if value != value.quantize(CENT):
        raise ValidationError("at most two decimal places")


class Money(fields.Decimal):
    """Money as a JSON string, "12.50", both ways: a JSON number would pass through a float."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            as_string=True,
            allow_nan=False,
            validate=_money_rules,
            metadata={"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "example": "12.50"},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError('Give money as a string, e.g. "12.50".')
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """Only JSON true and false: 0, 1, "yes" are refused rather than guessed."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        # Checked by type: in a set, 0 == False and 1 == True.
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value


class UtcDateTime(fields.AwareDateTime):
    """An aware timestamp, normalised to UTC: PostgreSQL refuses offsets beyond +-15:59."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError("out of range") from None
