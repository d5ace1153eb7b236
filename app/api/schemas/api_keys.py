"""API key schemas: the secret appears only in the answer to its creation."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import page_of
from app.api.schemas.fields import Text, UtcDateTime
from domain.model.identity import ROLES


class ApiKeyCreate(Schema):
    name = Text(required=True, validate=validate.Length(1, 100))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    expires_at = UtcDateTime(load_default=None, allow_none=True)


class ApiKeyOut(Schema):
    id = fields.UUID(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    created_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True, allow_none=True)
    last_used_at = fields.DateTime(required=True, allow_none=True)
    revoked_at = fields.DateTime(required=True, allow_none=True)
    created_by_user_id = fields.UUID(
        required=True, allow_none=True, metadata={"description": "The user who created it"}
    )
    created_by_key_id = fields.UUID(
        required=True, allow_none=True, metadata={"description": "The API key that minted it"}
    )


class ApiKeyCreated(ApiKeyOut):
    key = fields.String(
        required=True, metadata={"description": "The secret: shown in this answer only"}
    )


ApiKeyPage = page_of(ApiKeyOut)
