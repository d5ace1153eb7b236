"""Login request and the principal as the API shows it."""

from __future__ import annotations

from marshmallow import fields, validate

from app.api.outputs import LoginAnswer, Me, User
from app.api.schemas.answers import answer_schema
from app.api.schemas.common import Into
from domain.model.identity import Credentials


class LoginRequest(Into):
    into = Credentials
    email = fields.String(required=True, validate=validate.Length(1, 320))
    password = fields.String(required=True, validate=validate.Length(1, 1024), load_only=True)


UserOut = answer_schema(User)
LoginResponse = answer_schema(LoginAnswer)
PrincipalOut = answer_schema(Me)
