"""Answers that need no data: 304 for a current `If-None-Match`, and repeats from memory.

A tenant read's strong validator (its ETag) is a digest of everything its answer depends on:
the tenant, the route, the item, the query, and the versions of the resource kinds the route
names (`Route.depends_on`), as the worker last heard them from PostgreSQL
(infrastructure/versions.py). The principal's role is not in it: no read answers differently
by role. Two workers that heard the same versions give the same ETag.

The validator is taken before the handler reads anything, so an answer is never older than
its ETag: a write that lands in between makes the ETag older than the answer (the next
conditional read is a 200, never a stale 304). No validator, so no shortcut and no ETag:

- while the version book cannot be trusted (listener down, or not yet read the table);
- when the request carries a live Consistency-Token: the client has just written, and this
  worker may not have heard it yet;
- for an answer read on a replica, which may be behind the versions heard from the primary;
- for WRITE_FENCE seconds after this worker committed a command for the tenant: the
  notification of that commit may still be on its way, and the client that wrote is the one
  most likely to read again at once (on the same connection, so the same worker).
"""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlencode
from uuid import UUID

from aiohttp import web

from app.edge.keys import CACHE_OUTCOME, TENANT, VALIDATOR
from app.edge.response_cache import ResponseCache, ResponseCacheMetrics
from app.edge.rules import Route
from infrastructure.db.replicas.consistency import current_consistency
from infrastructure.versions import DASHBOARD, KINDS, VersionBook

# Part of every validator: change it whenever the shape of the answers changes, so an ETag
# issued by an older release never validates an answer of a newer one.
ANSWER_FORMAT = "1"
PRIVATE = "private, no-cache"  # revalidate every time; never in a shared cache
# Well above notification delivery (milliseconds on loopback; the benchmark measures it:
# docs/architecture.md, "Conditional reads"), short enough that a tenant written to often
# still gets 304s in between, and that every worker has a new ETag within a second.
WRITE_FENCE = 0.25
_MAX_FENCES = 10_000


class Freshness:
    """The worker's version book and response cache, as the pipeline uses them."""

    def __init__(
        self,
        versions: VersionBook,
        cache: ResponseCache,
        clock_period: float,
        metrics: ResponseCacheMetrics | None = None,
    ) -> None:
        self.versions = versions
        self.cache = cache
        self._metrics = metrics
        # The dashboard also depends on the time (its "today" and "last 30 days" sums): its
        # validator changes every period, the DASHBOARD_CACHE_TTL it is already allowed to lag.
        self._clock_period = max(clock_period, 1.0)
        self._fences: dict[UUID, float] = {}  # tenant -> monotonic time its fence ends

    def sample(self) -> None:
        """Copy the cache's figures into its gauges (app/runtime/web_app.py samples)."""
        if self._metrics is not None:
            self._metrics.sample()

    def wrote(self, tenant_id: UUID) -> None:
        """This worker ran a command for the tenant: no shortcut for it until WRITE_FENCE
        has passed, by when its notification has been heard."""
        now = time.monotonic()
        if len(self._fences) >= _MAX_FENCES:
            self._fences = {t: end for t, end in self._fences.items() if end > now}
        self._fences[tenant_id] = now + WRITE_FENCE

    def answer(self, request: web.Request, route: Route) -> web.Response | None:
        """A 304 or a 200 from memory when the validator allows; else None, and the
        validator is kept for `finish`."""
        etag = request[VALIDATOR] = self.validator(request, route)
        if etag is None:
            return None
        if matches(request.headers.get("If-None-Match"), etag):
            self.cache.not_modified += 1
            response = web.Response(status=304, headers=_headers(etag))
            response[CACHE_OUTCOME] = "not_modified"
            return response
        body = self.cache.get(etag) if self.cache.enabled else None
        if body is None:
            return None
        response = web.Response(body=body, content_type="application/json", headers=_headers(etag))
        response[CACHE_OUTCOME] = "hit"
        return response

    def finish(self, request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
        """The handler's answer: private, and with its ETag (and kept) when it has one."""
        response.headers["Cache-Control"] = PRIVATE
        etag = request.get(VALIDATOR)
        ctx = current_consistency.get()
        if (
            etag is None
            or response.status != 200
            or not isinstance(response, web.Response)
            or (ctx is not None and ctx.on_replica)
        ):
            response[CACHE_OUTCOME] = "bypass"
            return response
        response.headers["ETag"] = etag
        if isinstance(response.body, bytes):
            self.cache.put(etag, response.body)
        response[CACHE_OUTCOME] = "miss"
        return response

    def validator(self, request: web.Request, route: Route) -> str | None:
        """The ETag the answer would carry now, or None when it cannot be trusted."""
        if not self.versions.serving:
            return None
        ctx = current_consistency.get()
        if ctx is not None and ctx.after_lsn is not None:
            return None
        tenant_id = request[TENANT].id
        if self._fences.get(tenant_id, 0.0) > time.monotonic():
            return None
        parts = [
            ANSWER_FORMAT,
            str(tenant_id),
            route.name,
            request.match_info.get("id", ""),
            urlencode(sorted(request.query.items())),
        ]
        for kind in route.depends_on:
            if kind == DASHBOARD:
                parts += [f"{k}={self.versions.version(tenant_id, k)}" for k in KINDS]
                parts.append(f"t={int(time.time() // self._clock_period)}")
            else:
                parts.append(f"{kind}={self.versions.version(tenant_id, kind)}")
        digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()
        return f'"{digest}"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 13.1.2 asks)."""
    if not if_none_match:
        return False
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": PRIVATE}
