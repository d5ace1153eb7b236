"""Read-your-writes: WAL positions, the Consistency-Token that carries one, and the request's
consistency context.

A command's commit position (the primary's WAL insert position right after its COMMIT) goes to
the client as a token; a read that brings the token back may be served by a replica only once
the replica has replayed that far (infrastructure/db/replicas.py). The token is HMAC-signed so
a client cannot name an arbitrary position, and it stops mattering after `horizon` seconds:
by then every replica in rotation has replayed past it anyway (the lag bound), so an old or
far-ahead token cannot pin reads to the primary for longer than that.

The edge sets one `ReadConsistency` per request in a contextvar (like the per-request stats in
stats.py): domain services pass no consistency argument, and every read a request makes, the
authentication lookup included, sees the same requirement.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass

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


current_consistency: ContextVar[ReadConsistency | None] = ContextVar(
    "read_consistency", default=None
)


def committed_at(lsn: int) -> None:
    """Record a commit position on the current request (the latest one wins)."""
    ctx = current_consistency.get()
    if ctx is not None and (ctx.committed_lsn is None or lsn > ctx.committed_lsn):
        ctx.committed_lsn = lsn


# ---- the token -------------------------------------------------------------------------------


class InvalidConsistencyToken(Exception):
    """Not a token this deployment issued: malformed, or its signature does not match."""

    detail = "the Consistency-Token is not one this service issued"


_VERSION = "1"
_MAX_LENGTH = 100
_TOKEN = re.compile(r"^1\.([0-9A-F]{1,16})\.([0-9]{1,15})\.([A-Za-z0-9_-]{22})$")


class ConsistencyTokens:
    """`1.<LSN hex>.<issued, unix ms>.<HMAC-SHA256, first 16 bytes, base64url>`."""

    def __init__(self, secret: str, horizon: float) -> None:
        self._key = hashlib.sha256(b"sales-api consistency token\0" + secret.encode()).digest()
        self.horizon = horizon

    def issue(self, lsn: int, now: float | None = None) -> str:
        issued_ms = int((time.time() if now is None else now) * 1000)
        body = f"{_VERSION}.{lsn:X}.{issued_ms}"
        return f"{body}.{self._mac(body)}"

    def read_after(self, token: str, now: float | None = None) -> int | None:
        """The position a read must wait for, or None once the token no longer matters.

        Raises InvalidConsistencyToken for anything this deployment did not issue."""
        match = _TOKEN.match(token) if len(token) <= _MAX_LENGTH else None
        if match is None:
            raise InvalidConsistencyToken()
        body = token[: token.rindex(".")]
        if not hmac.compare_digest(self._mac(body), match.group(3)):
            raise InvalidConsistencyToken()
        age = (time.time() if now is None else now) - int(match.group(2)) / 1000
        if abs(age) > self.horizon:
            return None  # every replica in rotation is past it (or a clock is far off)
        return int(match.group(1), 16)

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
