"""Bearer secrets: random tokens handed out once, stored only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import secrets

API_KEY_PREFIX = "sk_"
_TOKEN_BYTES = 32


def new_session_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def digest(token: str) -> bytes:
    """SHA-256 is enough here: tokens carry 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(token.encode()).digest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check so garbage is refused without a database round trip."""
    return 16 <= len(token) <= 128 and token.isascii() and token.isprintable() and " " not in token
