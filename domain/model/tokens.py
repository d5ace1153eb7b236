"""Bearer secrets: random tokens handed out once, stored only as SHA-256 digests.

Each kind has its own prefix, so no session token can ever read as an API key (an unprefixed
random session token started with "sk_" about once in 262,144 logins, and was then refused).
An API key also carries its tenant's id, so a key alone says which tenant it acts in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from uuid import UUID

API_KEY_PREFIX = "sk_"
SESSION_PREFIX = "ss_"
_TOKEN_BYTES = 32
_KEY_TENANT = re.compile(r"sk_([0-9a-f]{32})_")


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_api_key(tenant_id: UUID) -> str:
    return f"{API_KEY_PREFIX}{tenant_id.hex}_{secrets.token_urlsafe(_TOKEN_BYTES)}"


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def tenant_of_api_key(token: str) -> UUID | None:
    """The tenant an API key was issued in; None for a session token or a key of the first
    format (issued before keys carried their tenant), which still needs X-Tenant."""
    found = _KEY_TENANT.match(token)
    return UUID(found.group(1)) if found else None


def digest(token: str) -> bytes:
    """SHA-256 is enough here: tokens carry 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(token.encode()).digest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check so garbage is refused without a database round trip."""
    return 16 <= len(token) <= 128 and token.isascii() and token.isprintable() and " " not in token
