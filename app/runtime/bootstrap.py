"""The composition root: builds every adapter and service from one Config, knowing no web framework.

The web app (app/runtime/web_app.py), the operator CLI (app/cli.py) and the tests all start
from `bootstrap(config)`; nothing else constructs an adapter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

import prometheus_client
import structlog
from prometheus_client import CollectorRegistry, Histogram

from app.runtime.config import Config
from domain.ports import IdempotencyClaim, TenantDirectory, UnitOfWorkFactory
from domain.services.auth import AuthService
from domain.services.customers import CustomerService
from domain.services.dashboard import DashboardService
from domain.services.events import EventService
from domain.services.invoices import InvoiceService
from domain.services.orders import OrderService
from domain.services.products import ProductService
from domain.services.webhooks import WebhookService
from infrastructure.clock import SystemClock
from infrastructure.db.database import Database, open_pool
from infrastructure.db.finder import find_servers
from infrastructure.db.hosts import parse_hosts
from infrastructure.db.listener import Listener, Subscription
from infrastructure.db.metrics import DbMetrics, ReplicaMetrics
from infrastructure.db.reads import GlobalReads, TenantReads
from infrastructure.db.replicas.consistency import ConsistencyTokens
from infrastructure.db.replicas.health import ReplicaMonitor
from infrastructure.db.replicas.probe import PROBE_APPLICATION_NAME
from infrastructure.db.replicas.routing import ReplicaReads
from infrastructure.db.replicas.state import Replica
from infrastructure.feed_waker import FeedWaker
from infrastructure.key_uses import KeyUses
from infrastructure.repositories.customers import CustomerReadRepository
from infrastructure.repositories.dashboard import DashboardReadRepository
from infrastructure.repositories.dashboard_cache import CachedDashboardReader
from infrastructure.repositories.events import CHANNEL as EVENTS_CHANNEL
from infrastructure.repositories.events import EventReadRepository
from infrastructure.repositories.identity import (
    CachedTenantDirectory,
    IdentityReadRepository,
    TenantRepository,
)
from infrastructure.repositories.identity_cache import (
    AUTH_CHANNEL,
    CachedIdentityReader,
    PrincipalCache,
)
from infrastructure.repositories.identity_cache_metrics import AuthCacheCollector
from infrastructure.repositories.invoices import InvoiceReadRepository
from infrastructure.repositories.login_throttle import PgLoginThrottle, ThrottlePolicy
from infrastructure.repositories.orders import OrderReadRepository
from infrastructure.repositories.products import ProductReadRepository
from infrastructure.repositories.webhooks import WebhookReadRepository
from infrastructure.security.passwords import Argon2Hasher
from infrastructure.unit_of_work import PgUnitOfWork
from infrastructure.versions import VERSIONS_CHANNEL, VersionBook
from infrastructure.webhooks.addresses import AddressGuard
from infrastructure.webhooks.secrets import AesGcmSealer

log = structlog.get_logger(__name__)

# How far a token issuer's clock may be off from a verifier's (another host); a token then
# matters for REPLICA_MAX_LAG plus this (infrastructure/db/replicas/consistency.py).
CLOCK_SKEW_ALLOWANCE = 1.0


@dataclass(frozen=True, slots=True)
class Services:
    """The domain services (domain/services/), wired to their adapters."""

    tenants: TenantDirectory
    auth: AuthService
    customers: CustomerService
    products: ProductService
    orders: OrderService
    invoices: InvoiceService
    dashboard: DashboardService
    events: EventService
    webhooks: WebhookService


@dataclass(frozen=True, slots=True)
class Container:
    """What one process runs with: its config, its adapters and the services built on them."""

    config: Config
    registry: CollectorRegistry
    db: Database
    hasher: Argon2Hasher
    services: Services
    auth_cache: PrincipalCache
    listener: Listener | None  # None only in tests that build a container by hand
    key_uses: KeyUses  # API keys' last use, written in the background
    replicas: Replicas | None = None  # None: no DATABASE_REPLICA_URLS, every read on the primary
    feed_waker: FeedWaker | None = None  # wakes the change feed's long polls (issue 18)
    # Issue 22: resource versions heard on the listener's connection (ETags, response cache).
    versions: VersionBook = field(default_factory=VersionBook)

    async def start(self) -> None:
        """Open DB_POOL_MIN connections now (side by side), but start anyway when the
        database is down: requests get a retryable 503 until it is back. With replicas, poll
        them once and keep polling in the background. Then the auth listener starts in the
        background; until it listens, tokens are looked up as without a cache. (After the
        first poll: the listener's probe writes WAL, and a replica behind the poller's first
        sample of the primary would wait a poll before it joins the rotation.)"""
        count = self.config.db_pool_min
        pings = await asyncio.gather(*(self.db.ping(within=2.0) for _ in range(count)))
        if not all(pings):
            log.warning("database_unavailable_at_start")
        if self.replicas is not None:
            await self.replicas.monitor.start()
        if self.listener is not None:
            self.listener.start()
        self.key_uses.start()

    async def close(self) -> None:
        await self.key_uses.close()  # while the pool is still open
        if self.listener is not None:
            await self.listener.close()
        if self.replicas is not None:
            await self.replicas.monitor.close()
            for replica in self.replicas.monitor.replicas:
                await replica.db.close()
        await self.db.close()
        self.hasher.close()


@dataclass(frozen=True, slots=True)
class Replicas:
    """The read replicas' side of the container: their health poller and the token codec."""

    monitor: ReplicaMonitor
    tokens: ConsistencyTokens


def bootstrap(config: Config) -> Container:
    """Build everything without connecting: the pool opens connections when first asked."""
    # A `_created` series per counter and histogram doubles what a scrape carries and no
    # rule or dashboard of ours reads it; the switch is process-wide in prometheus_client.
    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
    registry = CollectorRegistry(auto_describe=True)
    pool = open_pool(
        config.database_url, maxsize=config.db_pool_max, connect_timeout=config.db_connect_timeout
    )
    db = Database(
        pool,
        DbMetrics(registry, config.db_pool_max, worker=str(config.worker)),
        acquire_timeout=config.db_pool_acquire_timeout,
        max_waiters=config.db_pool_max_waiters,
        statement_timeout_ms=config.db_statement_timeout_ms,
    )
    hasher = Argon2Hasher(workers=config.password_workers)
    cache = PrincipalCache(config.auth_cache_ttl, config.auth_cache_size)
    versions = VersionBook(_notify_delay(registry))
    # One listener connection hears revocations, the change feed's news and resource
    # versions; without it the feed's long polls look every FeedWaker.POLL_WHILE_DEAF seconds.
    listener: Listener | None = None
    waker = FeedWaker(lambda: listener is not None and listener.up)
    listener = _listener(config, cache, waker, versions)
    registry.register(AuthCacheCollector(cache, listener))
    replicas = _replicas(config, registry) if config.database_replica_urls else None
    key_uses = KeyUses(_unit_of_work(db, replicas), config.api_key_use_flush)
    services = _services(config, db, hasher, cache, replicas, key_uses, waker, versions)
    return Container(
        config, registry, db, hasher, services, cache, listener, key_uses, replicas, waker, versions
    )


def _notify_delay(registry: CollectorRegistry) -> Callable[[float], None]:
    """Issue 22's staleness bound, measured: from a writing statement to a worker hearing it."""
    return Histogram(
        "resource_versions_notify_delay_seconds",
        "From a write's statement to this worker hearing its version notification",
        buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
        registry=registry,
    ).observe


def _listener(
    config: Config, cache: PrincipalCache, waker: FeedWaker, versions: VersionBook
) -> Listener:
    """Invalidations for the auth cache, news of the change feed (issue 18) and resource
    versions (issue 22), heard on one connection of their own. (With AUTH_CACHE_TTL=0 the
    cache ignores what it hears.)"""
    return Listener(
        config.auth_listen_url,
        AUTH_CHANNEL,
        probe_dsn=config.database_url,
        on_notify=cache.apply,
        on_up=cache.resume,
        on_down=cache.suspend,
        connect_timeout=config.db_connect_timeout,
        also=[
            Subscription(EVENTS_CHANNEL, on_notify=waker.notify, on_up=waker.wake_all),
            Subscription(
                VERSIONS_CHANNEL,
                on_notify=versions.apply,
                on_up=versions.resume,
                on_down=versions.suspend,
                on_listening=versions.load,
            ),
        ],
    )


def _replicas(config: Config, registry: CollectorRegistry) -> Replicas:
    metrics = ReplicaMetrics(registry)
    replicas = []
    for url in config.database_replica_urls:
        name = parse_hosts(url).name
        db = Database(
            open_pool(url, config.replica_pool_max, config.db_connect_timeout, primary=False),
            metrics.for_pool(name, config.replica_pool_max),
            acquire_timeout=config.db_pool_acquire_timeout,
            max_waiters=config.db_pool_max_waiters,
            statement_timeout_ms=config.db_statement_timeout_ms,
        )
        probe = find_servers(
            url, config.db_connect_timeout, application_name=PROBE_APPLICATION_NAME
        )
        replicas.append((Replica(name, db), probe))
    monitor = ReplicaMonitor(
        find_servers(
            config.database_url,
            config.db_connect_timeout,
            several_hosts_target="read-write",
            application_name=PROBE_APPLICATION_NAME,
        ),
        replicas,
        metrics,
        poll_s=config.replica_poll_ms / 1000,
        max_lag=config.replica_max_lag,
    )
    assert config.consistency_token_secret is not None, "validated with the replica URLs"
    tokens = ConsistencyTokens(
        config.consistency_token_secret, horizon=config.replica_max_lag + CLOCK_SKEW_ALLOWANCE
    )
    return Replicas(monitor, tokens)


def _services(
    config: Config,
    db: Database,
    hasher: Argon2Hasher,
    auth_cache: PrincipalCache,
    replicas: Replicas | None,
    key_uses: KeyUses,
    waker: FeedWaker,
    versions: VersionBook,
) -> Services:
    primary = TenantReads(db)
    if replicas is None:
        reads = primary
    else:
        routed = ReplicaReads(db, replicas.monitor, wait_s=config.replica_wait_ms / 1000)
        reads = TenantReads(db, routed.read)
    # What fills the principal cache is read on the primary: an invalidation that arrived
    # before a lookup started must not be undone by a replica that has not replayed it yet
    # (the cache's generation check only covers invalidations during the lookup). Without
    # the cache, tokens are looked up wherever reads go.
    identity_reads = primary if auth_cache.enabled else reads
    clock = SystemClock()
    uow = _unit_of_work(db, replicas)

    return Services(
        tenants=CachedTenantDirectory(
            TenantRepository(GlobalReads(db)),
            ttl=config.tenant_cache_ttl,
            max_entries=config.tenant_cache_size,
        ),
        auth=AuthService(
            CachedIdentityReader(IdentityReadRepository(identity_reads), auth_cache),
            uow,
            hasher,
            clock,
            timedelta(seconds=config.session_ttl_seconds),
            key_uses,
            timedelta(days=config.api_key_max_days),  # issue 19
            PgLoginThrottle(db, login_policy(config)),  # issue 19
        ),
        customers=CustomerService(CustomerReadRepository(reads), uow),
        products=ProductService(ProductReadRepository(reads), uow),
        orders=OrderService(OrderReadRepository(reads), uow, clock),
        invoices=InvoiceService(InvoiceReadRepository(reads), uow, clock),
        dashboard=DashboardService(
            CachedDashboardReader(
                DashboardReadRepository(reads), config.dashboard_cache_ttl, versions.stamp
            ),
            config.low_stock_threshold,
        ),
        # On the primary: a long poll is woken by the primary's commit, and a lagging replica
        # would answer "nothing yet" and send it back to sleep.
        events=EventService(EventReadRepository(primary), waker),
        webhooks=WebhookService(
            WebhookReadRepository(primary),  # an admin's own changes, read back at once
            uow,
            AddressGuard(config.webhook_allow_private),
            AesGcmSealer(config.webhook_secret_key),
        ),
    )


def _unit_of_work(db: Database, replicas: Replicas | None) -> UnitOfWorkFactory:
    capture_position = replicas is not None  # the commit position, for Consistency-Token

    def uow(tenant_id: UUID, idempotency: IdempotencyClaim | None = None) -> PgUnitOfWork:
        return PgUnitOfWork(db, tenant_id, idempotency, capture_position=capture_position)

    return uow


def login_policy(config: Config) -> ThrottlePolicy:
    """Issue 19: the login throttle's limits (docs/security.md)."""
    return ThrottlePolicy(
        per_account_address=config.login_failures_per_account_address,
        per_address=config.login_failures_per_address,
        per_account=config.login_failures_per_account,
        window_s=config.login_failure_window,
    )
