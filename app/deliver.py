"""`python -m app deliver`: the webhook deliverer, a process of its own beside the service.

Several may run (they share endpoints through leases claimed with FOR UPDATE SKIP LOCKED). It
stops on SIGTERM or SIGINT after the calls in flight have been answered and recorded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import structlog
from prometheus_client import CollectorRegistry, start_http_server

from app.runtime.config import Config, ConfigError, load_config
from app.runtime.logging import configure_logging
from infrastructure.db.database import Database, open_pool
from infrastructure.db.listener import Listener
from infrastructure.db.metrics import DbMetrics
from infrastructure.repositories.events import CHANNEL
from infrastructure.webhooks.deliverer import Deliverer, Settings
from infrastructure.webhooks.metrics import DeliveryMetrics
from infrastructure.webhooks.secrets import AesGcmSealer

log = structlog.get_logger("deliver")


def main() -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_format, config.log_level, config.log_schema)
    asyncio.run(deliver(config))
    return 0


async def deliver(config: Config) -> None:
    registry = CollectorRegistry(auto_describe=True)
    if config.deliver_metrics_port:
        start_http_server(config.deliver_metrics_port, config.admin_host, registry=registry)
    pool_max = min(config.db_pool_max, 4)  # short transactions between HTTP calls
    db = Database(
        open_pool(config.database_url, pool_max, config.db_statement_timeout_ms / 1000 + 5),
        DbMetrics(registry, pool_max),
        acquire_timeout=config.db_pool_acquire_timeout,
        max_waiters=config.db_pool_max_waiters,
        statement_timeout_ms=config.db_statement_timeout_ms,
    )
    settings = Settings(
        config.webhook_timeout,
        config.webhook_retry_schedule,
        config.webhook_allow_private,
        config.webhook_concurrency,
    )
    deliverer = Deliverer(
        db, AesGcmSealer(config.webhook_secret_key), settings, DeliveryMetrics(registry)
    )
    listener = Listener(
        config.auth_listen_url,
        CHANNEL,
        probe_dsn=config.database_url,
        on_notify=deliverer.notify,
        on_up=deliverer.wake,
        on_down=lambda: None,
        application_name="sales-deliver-listener",
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    listener.start()
    watch = asyncio.create_task(_outlive_no_parent(stop))
    log.info("deliver_started", owner=deliverer.owner, timeout_s=config.webhook_timeout)
    try:
        await deliverer.run(stop)
    finally:
        watch.cancel()
        await listener.close()
        await db.close()
        log.info("deliver_stopped")


async def _outlive_no_parent(stop: asyncio.Event) -> None:
    """Under `scripts/run` (DELIVER_PARENT_PID): stop once the service that started us ends."""
    parent = os.environ.get("DELIVER_PARENT_PID")
    if not parent:
        return
    while not stop.is_set():
        if os.getppid() != int(parent):
            log.info("deliver_parent_gone")
            break
        await asyncio.sleep(1.0)
    stop.set()
