"""In-process token buckets: login attempts per client address, unknown tenants, failed token
lookups.

In process on purpose: it needs no round trip and no shared store; with N workers an attacker
gets N times the rate, which the defaults allow for. Buckets are dropped once full again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


class RateLimited(Exception):
    def __init__(self, retry_after: int, what: str = "login attempts") -> None:
        super().__init__("too many attempts")
        self.retry_after = retry_after
        self.detail = f"too many {what}; retry in {retry_after} s"


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        what: str = "login attempts",
    ) -> None:
        self._what = what
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[Hashable, _Bucket] = {}

    def check(self, key: Hashable) -> None:
        """Raise RateLimited when `key` has no token left, without spending one."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return
        tokens = min(self._burst, bucket.tokens + (self._clock() - bucket.updated) * self._rate)
        if tokens < 1:
            raise RateLimited(max(1, math.ceil((1 - tokens) / self._rate)), self._what)

    def take(self, key: Hashable) -> None:
        """Spend one token or raise RateLimited with the seconds until one is back."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens < 1:
            raise RateLimited(max(1, math.ceil((1 - bucket.tokens) / self._rate)), self._what)
        bucket.tokens -= 1

    def give_back(self, key: Hashable) -> None:
        """Return a token `take` spent on something that turned out not to count."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(self._burst, bucket.tokens + 1)

    def _prune(self, now: float) -> None:
        full_after = self._burst / self._rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after}


class LoginLimiter:
    """Login attempts per client address, counted before the body is read. Failed logins per
    account are counted in PostgreSQL instead (infrastructure/repositories/login_throttle.py,
    issue 19): a bucket per email in each worker let anyone lock a named user out."""

    def __init__(self, per_address: TokenBuckets) -> None:
        self._per_address = per_address

    def attempt(self, address: str | None) -> None:
        """Count an attempt from `address` before its body is even read, so a malformed or
        oversized body costs the attacker a token like any other try."""
        self._per_address.take(address or "unknown")
