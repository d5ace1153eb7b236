"""Strict field types: JSON booleans are not integers, money has at most two decimals."""

from __future__ import annotations

import re
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


class QueryInteger(fields.Integer):
    """A number in a query string: ASCII digits only (issue 19). Python's int() reads any
    Unicode digit, so `limit=` with a fullwidth one (U+FF11) used to pass."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) and not _QUERY_INTEGER.fullmatch(value):
            raise ValidationError("Not a valid integer: ASCII digits only.")
        return super()._deserialize(value, attr, data, **kwargs)


_QUERY_INTEGER = re.compile(r"-?[0-9]{1,18}")


def _money_rules(value: Decimal) -> None:
    # A plain function, not validate.Range: the OpenAPI document describes money as a string,
    # and a numeric minimum on a string would make the document invalid.
    if value < 0 or value > MAX_PRICE:
        raise ValidationError(f"must be between 0 and {MAX_PRICE}")
    if value != value.quantize(CENT):
        raise ValidationError("at most two decimal places")


# What the document promises (in JSON Schema's regex dialect \d is ASCII) and what is enforced
# (in Python's, \d would take any Unicode digit): no sign, exponent, "_", blank or bare point.
MONEY_PATTERN = r"^\d+(\.\d{1,2})?$"
_MONEY = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


class Money(fields.Decimal):
    """Money as a JSON string, "12.50", both ways: a JSON number would pass through a float."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            as_string=True,
            allow_nan=False,
            validate=_money_rules,
            metadata={"type": "string", "pattern": MONEY_PATTERN, "example": "12.50"},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not _MONEY.fullmatch(value):
            raise ValidationError('Give money as a string of digits, e.g. "12.50".')
        return super()._deserialize(value, attr, data, **kwargs)


class Text(fields.String):
    """A string stripped of surrounding blanks before its validators run: "   " is empty."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class TrimmedEmail(fields.Email):
    """An email address, stripped before it is validated."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class StrictBoolean(fields.Boolean):
    """Only JSON true and false: 0, 1, "yes" are refused rather than guessed."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        # Checked by type: in a set, 0 == False and 1 == True.
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean.")
        return value


class QueryBoolean(fields.Boolean):
    """A query-string boolean: exactly `true` or `false` (`?active=0` is refused, not guessed)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if value not in ("true", "false"):
            raise ValidationError("Give true or false.")
        return value == "true"


class UtcDateTime(fields.AwareDateTime):
    """An aware timestamp, normalised to UTC: PostgreSQL refuses offsets beyond +-15:59."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValidationError("out of range") from None
