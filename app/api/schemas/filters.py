"""The filter fields of the list queries: each optional (absent: no filter), its description
worded once for every list that has it."""

from __future__ import annotations

from marshmallow import fields, validate

from app.api.schemas.fields import UtcDateTime

_WITH_OFFSET = "(ISO 8601 with offset)"


def containing(which: str) -> fields.String:
    """`q`: `which` (say "customers whose name or email") contains this text, ignoring case."""
    return fields.String(
        load_default=None,
        validate=validate.Length(1, 100),
        metadata={"description": f"Only {which} contains this, ignoring case"},
    )


def in_status(statuses: tuple[str, ...], which: str) -> fields.String:
    return fields.String(
        load_default=None,
        validate=validate.OneOf(statuses),
        metadata={"description": f"Only {which} in this status"},
    )


def at_or_after(which: str) -> UtcDateTime:
    """`which` (say "orders placed") at or after a time."""
    return UtcDateTime(
        load_default=None,
        metadata={"description": f"Only {which} at or after this time {_WITH_OFFSET}"},
    )


def before(which: str) -> UtcDateTime:
    return UtcDateTime(
        load_default=None, metadata={"description": f"Only {which} before this time {_WITH_OFFSET}"}
    )
