"""Webhook secrets at rest: AES-256-GCM under WEBHOOK_SECRET_KEY, bound to their endpoint.

A webhook secret cannot be stored hashed like an API key: the deliverer must compute
HMAC-SHA256 with the secret itself on every delivery, and a hash cannot give it back. So it is
stored encrypted, with the endpoint's tenant and id as associated data (a sealed secret copied
onto another row does not open), and the key lives in the configuration, not the database.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.errors import DomainError

_VERSION = b"\x01"
_NONCE = 12


class WebhooksNotConfigured(DomainError):
    """No WEBHOOK_SECRET_KEY: secrets could not be kept, so no endpoint can be made (503)."""


class SecretKeyMismatch(Exception):
    """A sealed secret does not open with this key (rotated or wrong WEBHOOK_SECRET_KEY)."""


class AesGcmSealer:
    def __init__(self, key: str | None) -> None:
        # SHA-256 turns any passphrase of at least 16 characters into the 32 bytes AES-256 takes.
        self._aead = AESGCM(hashlib.sha256(key.encode()).digest()) if key else None

    def seal(self, secret: str, context: str) -> bytes:
        aead = self._need()
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + aead.encrypt(nonce, secret.encode(), context.encode())

    def open(self, sealed: bytes, context: str) -> str:
        aead = self._need()
        if sealed[:1] != _VERSION:
            raise SecretKeyMismatch("unknown sealing version")
        nonce, box = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
        try:
            return aead.decrypt(nonce, box, context.encode()).decode()
        except InvalidTag:
            raise SecretKeyMismatch("the secret does not open with WEBHOOK_SECRET_KEY") from None

    def _need(self) -> AESGCM:
        if self._aead is None:
            raise WebhooksNotConfigured("webhooks need WEBHOOK_SECRET_KEY set on the server")
        return self._aead
