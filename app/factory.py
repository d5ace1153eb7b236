"""The composition root: the only place that builds adapters and hands them to services."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import UUID

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry

from app import middlewares
from app.admission import Admission, AdmissionGate, admission
from app.config import Config
from app.keys import (
    ADMISSION,
    CONFIG,
    DATABASE,
    HTTP_METRICS,
    LOGIN_LIMITER,
    METRICS_REGISTRY,
    OPENAPI_DOC,
    SERVICES,
)
from app.metrics import HttpMetrics, measure
from app.openapi import build_openapi
from app.ratelimit import LoginLimiter, TokenBuckets
from app.routes import ROUTES, setup_routes
from app.services import Services
from domain.services.auth import AuthService
from domain.services.customers import CustomerService
from domain.services.dashboard import DashboardService
from domain.services.invoices import InvoiceService
from domain.services.orders import OrderService
from domain.services.products import ProductService
from infrastructure.clock import SystemClock
from infrastructure.db.metrics import DbMetrics
from infrastructure.db.pool import Database, open_pool
from infrastructure.db.reader import GlobalReader, TenantReader
from infrastructure.db.uow import PgUnitOfWork
from infrastructure.repositories.customers import CustomerReadRepository
from infrastructure.repositories.dashboard import DashboardReadRepository
from infrastructure.repositories.dashboard_cache import CachedDashboardReader
from infrastructure.repositories.identity import (
    CachedTenantDirectory,
    IdentityReadRepository,
    TenantRepository,
)
from infrastructure.repositories.invoices import InvoiceReadRepository
from infrastructure.repositories.orders import OrderReadRepository
from infrastructure.repositories.products import ProductReadRepository
from infrastructure.security.passwords import Argon2Hasher

log = structlog.get_logger(__name__)


async def create_app(config: Config) -> web.Application:
    registry = CollectorRegistry(auto_describe=True)
    pool = open_pool(
        config.database_url,
        maxsize=config.db_pool_max,
        connect_timeout=config.db_statement_timeout_ms / 1000 + 5,
    )
    db = Database(
        pool,
        DbMetrics(registry, config.db_pool_max),
        acquire_timeout=config.db_pool_acquire_timeout,
        max_waiters=config.db_pool_max_waiters,
        statement_timeout_ms=config.db_statement_timeout_ms,
    )
    hasher = Argon2Hasher(workers=config.password_workers)
    services = _build_services(config, db, hasher)

    app = web.Application(
        client_max_size=config.max_body_bytes,
        middlewares=[
            middlewares.request_context,
            measure,
            middlewares.errors,
            middlewares.tenant,  # refuses token-less requests before they queue
            admission,
            middlewares.authenticate,
        ],
    )
    app[CONFIG] = config
    app[DATABASE] = db
    app[ADMISSION] = Admission(
        reads=AdmissionGate(config.max_active_reads, config.max_queued_requests),
        commands=AdmissionGate(config.max_active_commands, config.max_queued_requests),
    )
    app[SERVICES] = services
    app[METRICS_REGISTRY] = registry
    app[HTTP_METRICS] = HttpMetrics(registry)
    app[HTTP_METRICS].watch(app[ADMISSION])
    app[LOGIN_LIMITER] = LoginLimiter(
        TokenBuckets(config.login_per_email_per_minute, config.login_burst),
        TokenBuckets(config.login_per_address_per_minute, config.login_burst * 3),
    )
    app[OPENAPI_DOC] = build_openapi(ROUTES)
    setup_routes(app)

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        await _warm_up(db, config.db_pool_min)
        # Everything built so far lives as long as the process: move it out of the garbage
        # collector's sight, so full collections under load only walk per-request garbage.
        gc.freeze()
        yield
        await db.close()
        hasher.close()

    app.cleanup_ctx.append(lifecycle)
    return app


def _build_services(config: Config, db: Database, hasher: Argon2Hasher) -> Services:
    reader = TenantReader(db)
    clock = SystemClock()

    def uow(tenant_id: UUID) -> PgUnitOfWork:
        return PgUnitOfWork(db, tenant_id)

    return Services(
        tenants=CachedTenantDirectory(
            TenantRepository(GlobalReader(db)), ttl=config.tenant_cache_ttl
        ),
        auth=AuthService(
            IdentityReadRepository(reader),
            uow,
            hasher,
            clock,
            timedelta(seconds=config.session_ttl_seconds),
        ),
        customers=CustomerService(CustomerReadRepository(reader), uow),
        products=ProductService(ProductReadRepository(reader), uow),
        orders=OrderService(OrderReadRepository(reader), uow, clock),
        invoices=InvoiceService(InvoiceReadRepository(reader), uow, clock),
        dashboard=DashboardService(
            CachedDashboardReader(DashboardReadRepository(reader), config.dashboard_cache_ttl),
            config.low_stock_threshold,
        ),
    )


async def _warm_up(db: Database, count: int) -> None:
    """Open DB_POOL_MIN connections now (side by side), but start anyway when the database is down."""
    if count and not all(await asyncio.gather(*(db.ping(within=2.0) for _ in range(count)))):
        log.warning("database_unavailable_at_start")
