"""API key schemas: the secret appears only in the answer to its creation."""

from __future__ import annotations

from marshmallow import fields, validate

from app.api.outputs import CreatedApiKey
from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into, page_of
from app.api.schemas.fields import Text, UtcDateTime
from domain.model.identity import ROLES, ApiKey, ApiKeyRequest


class ApiKeyCreate(Into):
    into = ApiKeyRequest
    name = Text(required=True, validate=validate.Length(1, 100))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    expires_at = UtcDateTime(load_default=None, allow_none=True)


ApiKeyOut = answer_schema(ApiKey)
ApiKeyCreated = answer_schema(CreatedApiKey)
ApiKeyPage = page_of(ApiKeyOut)
