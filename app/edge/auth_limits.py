"""Authentication that cannot exhaust anything (issue 19).

A token the worker has not cached costs a round trip, and a flood of random tokens used to
cost one each, unthrottled, until the pool ran dry for everyone. Two bounds keep those
lookups in their place; a cached (warm) caller passes neither and still costs no round trip:

- failed lookups are limited per client address (a token bucket like the unknown-tenant
  one): past the burst, 429 with Retry-After, before any round trip;
- lookups run under a small concurrency bound of their own with a bounded queue (503
  `overloaded` at once when it is full), so no number of unknown tokens can take more than
  AUTH_LOOKUP_CONCURRENCY pool places that known callers need.
"""

from __future__ import annotations

from uuid import UUID

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter

from app.edge.admission import AdmissionGate
from app.edge.keys import AUTH_LIMITS, CONTAINER
from app.edge.ratelimit import TokenBuckets
from app.runtime.config import Config
from domain.errors import AuthenticationFailed
from domain.model import tokens
from domain.model.identity import Principal


class AuthLimits:
    """The per-address bucket of failed lookups and the gate every uncached lookup passes."""

    def __init__(
        self, failures: TokenBuckets, gate: AdmissionGate, registry: CollectorRegistry
    ) -> None:
        self.failures = failures
        self.gate = gate
        self.lookups = Counter(
            "auth_token_lookups",
            "Bearer tokens looked up in the database (not answered from the cache), by outcome",
            ["outcome"],
            registry=registry,
        )


async def authenticate(request: web.Request, tenant_id: UUID, token: str) -> Principal:
    """The request's principal: from the cache at no cost, else one bounded lookup."""
    container = request.app[CONTAINER]
    auth = container.services.auth
    if container.auth_cache.holds(tenant_id, tokens.digest(token)):
        return await auth.authenticate(tenant_id, token)
    limits = request.app[AUTH_LIMITS]
    address = request.remote or "unknown"
    limits.failures.check(address)  # refused before it even queues
    await limits.gate.enter()
    try:
        # Charged up front, once admitted: lookups running side by side cannot overdraw the
        # bucket together; a token that turns out known gets its charge back.
        limits.failures.take(address)
        try:
            principal = await auth.authenticate(tenant_id, token)
        except AuthenticationFailed:
            limits.lookups.labels("unknown").inc()
            raise
        except BaseException:
            limits.failures.give_back(address)  # not a failed authentication
            raise
    finally:
        limits.gate.leave()
    limits.failures.give_back(address)
    limits.lookups.labels("known").inc()
    return principal


def build(config: Config, registry: CollectorRegistry) -> AuthLimits:
    return AuthLimits(
        TokenBuckets(
            config.auth_failures_per_minute,
            config.auth_failures_burst,
            what="failed authentications",
        ),
        AdmissionGate(config.auth_lookup_concurrency, config.auth_lookup_queue),
        registry,
    )
