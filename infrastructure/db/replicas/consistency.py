"""Read-your-writes: WAL positions, the Consistency-Token that carries one, and the request's
consistency context.

A command's commit position (the primary's WAL insert position right after its COMMIT) goes to
the client as a token; a read that brings the token back may be served by a replica only once
the replica has replayed that far (infrastructure/db/replicas/routing.py). The token is encrypted and
authenticated (AES-GCM) so a client can neither read nor name a position, and it is bound to
the tenant it was issued in. It stops mattering after `horizon` seconds:
by then every replica in rotation has replayed past it anyway (the lag bound), so an old or
far-ahead token cannot pin reads to the primary for longer than that.

The edge sets one `ReadConsistency` per request in a contextvar (like the per-request stats in
stats.py): domain services pass no consistency argument, and every read a request makes, the
authentication lookup included, sees the same requirement.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# ---- WAL positions ---------------------------------------------------------------------------

_SHORT_PAGE_HEADER = 24  # SizeOfXLogShortPHD, MAXALIGNed
_LONG_PAGE_HEADER = 40  # SizeOfXLogLongPHD: the first page of a segment


def parse_lsn(text: str) -> int:
    """'16/B374D848' -> an integer, so positions compare and subtract."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass(frozen=True, slots=True)
class WalGeometry:
    """The primary's WAL page and segment sizes (read once from it; these are the defaults)."""

    block_size: int = 8192
    segment_size: int = 16 * 1024 * 1024

    def record_boundary(self, insert_lsn: int) -> int:
        """The position a standby reports once it has replayed everything up to `insert_lsn`.

        `pg_current_wal_insert_lsn()` points just past the page header when the last record
        ended on a page boundary, while a standby's `pg_last_wal_replay_lsn()` is the end of
        the last record: the boundary itself. Nothing lies between the two, so comparing with
        the boundary loses nothing, and an idle primary does not look ahead of its standby
        forever.
        """
        if insert_lsn % self.segment_size == _LONG_PAGE_HEADER:
            return insert_lsn - _LONG_PAGE_HEADER
        if insert_lsn % self.block_size == _SHORT_PAGE_HEADER:
            return insert_lsn - _SHORT_PAGE_HEADER
        return insert_lsn


# ---- the per-request context -----------------------------------------------------------------


@dataclass(slots=True)
class ReadConsistency:
    """What one request needs of the reads it makes, and the commit position it produced."""

    primary_only: bool = False  # a command: its reads see what its own transaction committed
    after_lsn: int | None = None  # from the client's token: serve only from a replica this far
    committed_lsn: int | None = None  # set by the UnitOfWork at commit
    on_replica: bool = False  # a read ran on a replica (its answer gets no ETag: issue 22)

    def saw_commit(self, lsn: int) -> None:
        """A command of this request committed at `lsn` (the latest one wins)."""
        if self.committed_lsn is None or lsn > self.committed_lsn:
            self.committed_lsn = lsn


current_consistency: ContextVar[ReadConsistency | None] = ContextVar(
    "read_consistency", default=None
)


def record_commit(lsn: int) -> None:
    """Tell the current request's consistency context (if any) that a command committed."""
    ctx = current_consistency.get()
    if ctx is not None:
        ctx.saw_commit(lsn)


# ---- the token -------------------------------------------------------------------------------


class InvalidConsistencyToken(Exception):
    """Not shaped like a token this service issues (400 on a route where it matters)."""

    detail = "the Consistency-Token is not one this service issued"


class UnusableConsistencyToken(Exception):
    """Shaped right, but it asks for nothing: too old, issued under another secret or to
    another tenant. Such a token is ignored, as if absent (and logged), never refused."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_VERSION = "2"
_MAX_LENGTH = 100
_NONCE = 12
_TOKEN = re.compile(r"^2\.([0-9]{1,15})\.([A-Za-z0-9_-]{48})$")


class ConsistencyTokens:
    """`2.<issued, unix ms>.<base64url(nonce, AES-GCM(LSN), tag)>`, bound to a tenant.

    The WAL position is encrypted: it is the whole cluster's, and would show one tenant when
    others write. The issue time stays readable so a token past the horizon is ignored before
    any key is tried (a restart with a new secret then breaks no client's next read); the
    tenant and the issue time are authenticated data, so a token read in another tenant, or
    with its time changed, does not decrypt and is ignored like one from an old secret.
    """

    def __init__(self, secret: str, horizon: float) -> None:
        key = hashlib.sha256(b"sales-api consistency token v2\0" + secret.encode()).digest()
        self._aead = AESGCM(key)
        self.horizon = horizon

    def issue(self, lsn: int, tenant_id: UUID, now: float | None = None) -> str:
        issued_ms = int((time.time() if now is None else now) * 1000)
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, lsn.to_bytes(8, "big"), _aad(issued_ms, tenant_id))
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{_VERSION}.{issued_ms}.{body}"

    def read_after(self, token: str, tenant_id: UUID, now: float | None = None) -> int:
        """The position a read in `tenant_id` must wait for.

        Raises InvalidConsistencyToken for a malformed token, UnusableConsistencyToken for
        one that asks for nothing (stale, another secret, another tenant)."""
        if token.startswith("1."):
            raise UnusableConsistencyToken("old-format")  # issued before an upgrade
        match = _TOKEN.match(token) if len(token) <= _MAX_LENGTH else None
        if match is None:
            raise InvalidConsistencyToken()
        issued_ms = int(match.group(1))
        age = (time.time() if now is None else now) - issued_ms / 1000
        if abs(age) > self.horizon:
            raise UnusableConsistencyToken("stale")  # every replica is past it by now
        raw = base64.urlsafe_b64decode(match.group(2) + "=" * (-len(match.group(2)) % 4))
        try:
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(issued_ms, tenant_id))
        except InvalidTag:
            raise UnusableConsistencyToken("unverifiable") from None
        return int.from_bytes(plain, "big")


def _aad(issued_ms: int, tenant_id: UUID) -> bytes:
    return f"{_VERSION}.{issued_ms}.".encode() + tenant_id.bytes
