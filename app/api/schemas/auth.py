"""Login request and the principal as the API shows it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.api.schemas.common import Into
from domain.model.identity import ROLES, Credentials


class LoginRequest(Into):
    into = Credentials
    email = fields.String(required=True, validate=validate.Length(1, 320))
    password = fields.String(required=True, validate=validate.Length(1, 1024), load_only=True)


class UserOut(Schema):
    id = fields.UUID()
    email = fields.String()
    name = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))


class LoginResponse(Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserOut)


class PrincipalOut(Schema):
    tenant_id = fields.UUID()
    tenant = fields.String()
    role = fields.String(validate=validate.OneOf(ROLES))
    user_id = fields.UUID(allow_none=True)
    api_key_id = fields.UUID(allow_none=True)
    email = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
