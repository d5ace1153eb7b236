"""Configuration: one frozen dataclass, read from the environment once and validated at start."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

T = TypeVar("T")


class ConfigError(Exception):
    """One clear line naming the variable; the process exits with it."""


@dataclass(frozen=True, slots=True)
class Config:
    database_url: str  # the app role: DML only, row-level security enforced
    migration_database_url: str  # the owner role, for migrations and operator jobs
    # Where the auth cache's listener connects (LISTEN needs a session of its own, which
    # PgBouncer in transaction mode does not give); None: DATABASE_URL.
    auth_listen_database_url: str | None = None
    app_db_role: str = "sales_app"  # the role migrations grant DML to
    host: str = "127.0.0.1"
    port: int = 8080
    # The admin port: /metrics, /livez, /readyz, /dashboard. Loopback by default so only the
    # host (or a sidecar scraper) reaches it; 0 disables it.
    admin_host: str = "127.0.0.1"
    admin_port: int = 9090
    # Set by a process manager running several workers (prometheus-client multiprocess mode,
    # app/runtime/gunicorn_conf.py): where every worker writes its metrics for one scrape.
    metrics_dir: str | None = None
    db_pool_min: int = 1
    db_pool_max: int = 17
    db_pool_acquire_timeout: float = 5.0
    db_pool_max_waiters: int = 500
    db_statement_timeout_ms: int = 5000
    request_timeout: float = 15.0
    # Database-backed reads / commands one worker works on at once; the rest queue
    # (app/edge/admission.py; the defaults are measured in docs/performance.md). None: derived
    # from how many workers share the cores (`read_places`), once the worker count is known.
    max_active_reads: int | None = None
    max_active_commands: int = 4
    max_queued_requests: int = 4000
    default_tenant: str | None = None
    base_domain: str | None = None
    tenant_cache_ttl: float = 60.0
    tenant_cache_size: int = 10_000
    # New unknown tenant slugs one client address may try (each costs a round trip).
    unknown_tenants_per_minute: float = 30.0
    unknown_tenants_burst: int = 20
    session_ttl_seconds: int = 8 * 3600
    max_body_bytes: int = 1024 * 1024
    log_format: str = "auto"  # json, console, or auto: console on a terminal, else json
    log_schema: str = "plain"  # plain (our field names) or ecs (Elastic Common Schema)
    log_level: str = "INFO"
    cookie_secure: bool = False
    # One argon2 thread: a login storm then takes at most one core of two, not the machine.
    password_workers: int = 1
    shutdown_timeout: float = 10.0
    low_stock_threshold: int = 5
    # Seconds a worker reuses a tenant's dashboard (0: compute it on every request).
    dashboard_cache_ttl: float = 2.0
    login_per_email_per_minute: float = 10.0
    login_per_address_per_minute: float = 60.0
    login_burst: int = 10
    # Which of the process manager's workers this process is (1-based, reused when a worker is
    # replaced), and how many there are: derived at start (`for_workers`), never read from the
    # environment.
    worker: int = 1
    workers: int = 1
    # Seconds a worker may answer a token from its cache (0: look it up on every request),
    # and how many principals it keeps.
    auth_cache_ttl: float = 60.0
    auth_cache_size: int = 10_000
    # Hot standbys (app role) that serve tenant-scoped reads (docs/architecture.md, "Reads on
    # replicas"); empty: every read goes to the primary, exactly as without this feature.
    database_replica_urls: tuple[str, ...] = ()
    db_replica_pool_max: int | None = None  # None: DB_POOL_MAX
    replica_max_lag: float = 1.0  # seconds behind the primary before a replica leaves rotation
    replica_wait_ms: int = 50  # how long a read waits for a replica to reach its token
    replica_poll_ms: int = 100  # how often each worker polls the replicas' replay positions
    # The HMAC key of Consistency-Token; required with replicas, shared by every worker and
    # every instance behind the same load balancer (a token from one must verify at another).
    consistency_token_secret: str | None = None
    # Issue 16 (failover): seconds to wait for one server of a host list to accept a
    # connection, apart from the statement timeout (infrastructure/db/finder.py).
    db_connect_timeout: float = 2.0

    @property
    def auth_listen_url(self) -> str:
        return self.auth_listen_database_url or self.database_url

    @property
    def replica_pool_max(self) -> int:
        return self.db_replica_pool_max or self.db_pool_max


def usable_cores() -> int:
    """Cores this process may run on (CPU affinity, e.g. taskset or a cpuset), not the host's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def read_places(workers: int, cores: int) -> int:
    """The default MAX_ACTIVE_READS for one of `workers` processes on `cores` cores.

    While a read waits on PostgreSQL, its worker needs a second read to keep the CPU busy,
    unless other workers fill the cores meanwhile. Measured on 2 cores (docs/performance.md):
    1 worker: 1 place ~800 reads/s, 2 places ~1,400; 2 workers: 1 place ~1,860 reads/s with
    hold p99 1.0 ms, 2 places ~1,740 with hold p99 4.6 ms.
    """
    return 1 if workers >= cores else 2


def for_workers(config: Config, workers: int, worker: int = 1) -> Config:
    """The config worker `worker` of `workers` processes serves with: MAX_ACTIVE_READS, when
    not set, follows from how many workers share this process's cores."""
    reads = config.max_active_reads
    if reads is None:
        reads = read_places(workers, usable_cores())
    return replace(config, max_active_reads=reads, workers=workers, worker=worker)


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _float(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _str(name: str, raw: str) -> str:
    return raw


def _urls(name: str, raw: str) -> tuple[str, ...]:
    # A comma also separates a multi-host URL's hosts: a new URL starts at its scheme.
    urls = tuple(u.strip() for u in re.split(r",\s*(?=postgres(?:ql)?://)", raw) if u.strip())
    for url in urls:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(f"{name} must be comma-separated postgresql:// URLs")
        _connection_string(name, url)
    return urls


def _connection_string(name: str, raw: str) -> str:
    """A libpq URL or key=value string, one host or several (checked, not connected)."""
    from infrastructure.db.hosts import InvalidConnectionString, parse_hosts

    try:
        parse_hosts(raw)
    except InvalidConnectionString as exc:
        raise ConfigError(f"{name} is not a valid connection string: {exc}") from None
    return raw


def _is_connection_string(raw: str) -> bool:
    return raw.startswith(("postgresql://", "postgres://")) or "=" in raw


def load_config(env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    defaults = Config(database_url="", migration_database_url="")

    def get(name: str, parse: Callable[[str, str], T], default: T) -> T:
        raw = env.get(name)
        return default if raw is None or raw == "" else parse(name, raw)

    database_url = env.get("DATABASE_URL", "")
    if not _is_connection_string(database_url):
        raise ConfigError("DATABASE_URL must be set to a postgresql:// URL for the app role")
    _connection_string("DATABASE_URL", database_url)
    config = Config(
        database_url=database_url,
        migration_database_url=env.get("MIGRATION_DATABASE_URL") or database_url,
        auth_listen_database_url=env.get("AUTH_LISTEN_DATABASE_URL") or None,
        app_db_role=get("APP_DB_ROLE", _str, defaults.app_db_role),
        host=get("HOST", _str, defaults.host),
        port=get("PORT", _int, defaults.port),
        admin_host=get("ADMIN_HOST", _str, defaults.admin_host),
        admin_port=get("ADMIN_PORT", _int, defaults.admin_port),
        metrics_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
        db_pool_min=get("DB_POOL_MIN", _int, defaults.db_pool_min),
        db_pool_max=get("DB_POOL_MAX", _int, defaults.db_pool_max),
        db_pool_acquire_timeout=get(
            "DB_POOL_ACQUIRE_TIMEOUT", _float, defaults.db_pool_acquire_timeout
        ),
        db_pool_max_waiters=get("DB_POOL_MAX_WAITERS", _int, defaults.db_pool_max_waiters),
        max_active_reads=get("MAX_ACTIVE_READS", _int, None),
        max_active_commands=get("MAX_ACTIVE_COMMANDS", _int, defaults.max_active_commands),
        max_queued_requests=get("MAX_QUEUED_REQUESTS", _int, defaults.max_queued_requests),
        db_statement_timeout_ms=get("DB_STATEMENT_TIMEOUT", _int, defaults.db_statement_timeout_ms),
        request_timeout=get("REQUEST_TIMEOUT", _float, defaults.request_timeout),
        default_tenant=env.get("DEFAULT_TENANT") or None,
        base_domain=(env.get("BASE_DOMAIN") or "").lower().strip(".") or None,
        tenant_cache_ttl=get("TENANT_CACHE_TTL", _float, defaults.tenant_cache_ttl),
        tenant_cache_size=get("TENANT_CACHE_SIZE", _int, defaults.tenant_cache_size),
        unknown_tenants_per_minute=get(
            "UNKNOWN_TENANT_RATE", _float, defaults.unknown_tenants_per_minute
        ),
        unknown_tenants_burst=get("UNKNOWN_TENANT_BURST", _int, defaults.unknown_tenants_burst),
        session_ttl_seconds=get("SESSION_TTL", _int, defaults.session_ttl_seconds),
        max_body_bytes=get("MAX_BODY_BYTES", _int, defaults.max_body_bytes),
        log_format=get("LOG_FORMAT", _str, defaults.log_format).lower(),
        log_level=get("LOG_LEVEL", _str, defaults.log_level).upper(),
        log_schema=get("LOG_SCHEMA", _str, defaults.log_schema).lower(),
        cookie_secure=get("COOKIE_SECURE", _bool, defaults.cookie_secure),
        password_workers=get("PASSWORD_WORKERS", _int, defaults.password_workers),
        shutdown_timeout=get("SHUTDOWN_TIMEOUT", _float, defaults.shutdown_timeout),
        low_stock_threshold=get("LOW_STOCK_THRESHOLD", _int, defaults.low_stock_threshold),
        dashboard_cache_ttl=get("DASHBOARD_CACHE_TTL", _float, defaults.dashboard_cache_ttl),
        login_per_email_per_minute=get(
            "LOGIN_RATE_PER_EMAIL", _float, defaults.login_per_email_per_minute
        ),
        login_per_address_per_minute=get(
            "LOGIN_RATE_PER_ADDRESS", _float, defaults.login_per_address_per_minute
        ),
        login_burst=get("LOGIN_BURST", _int, defaults.login_burst),
        auth_cache_ttl=get("AUTH_CACHE_TTL", _float, defaults.auth_cache_ttl),
        auth_cache_size=get("AUTH_CACHE_SIZE", _int, defaults.auth_cache_size),
        database_replica_urls=get("DATABASE_REPLICA_URLS", _urls, ()),
        db_replica_pool_max=get("DB_REPLICA_POOL_MAX", _int, None),
        replica_max_lag=get("REPLICA_MAX_LAG", _float, defaults.replica_max_lag),
        replica_wait_ms=get("REPLICA_WAIT_MS", _int, defaults.replica_wait_ms),
        replica_poll_ms=get("REPLICA_POLL_MS", _int, defaults.replica_poll_ms),
        consistency_token_secret=env.get("CONSISTENCY_TOKEN_SECRET") or None,
        db_connect_timeout=get("DB_CONNECT_TIMEOUT", _float, defaults.db_connect_timeout),
    )
    _validate(config)
    return config


def _validate(c: Config) -> None:
    checks = [
        (1 <= c.port <= 65535, "PORT must be between 1 and 65535"),
        (0 <= c.admin_port <= 65535, "ADMIN_PORT must be between 0 (off) and 65535"),
        (
            c.admin_port == 0 or (c.admin_port, c.admin_host) != (c.port, c.host),
            "ADMIN_PORT must differ from PORT",
        ),
        (c.db_pool_max >= 1, "DB_POOL_MAX must be at least 1"),
        (0 <= c.db_pool_min <= c.db_pool_max, "DB_POOL_MIN must be between 0 and DB_POOL_MAX"),
        (c.db_pool_acquire_timeout > 0, "DB_POOL_ACQUIRE_TIMEOUT must be positive"),
        (c.db_pool_max_waiters >= 1, "DB_POOL_MAX_WAITERS must be at least 1"),
        (c.dashboard_cache_ttl >= 0, "DASHBOARD_CACHE_TTL must not be negative"),
        (
            c.max_active_reads is None or c.max_active_reads >= 1,
            "MAX_ACTIVE_READS must be at least 1",
        ),
        (c.max_active_commands >= 1, "MAX_ACTIVE_COMMANDS must be at least 1"),
        (c.max_queued_requests >= 0, "MAX_QUEUED_REQUESTS must not be negative"),
        (c.db_statement_timeout_ms >= 1, "DB_STATEMENT_TIMEOUT must be at least 1 (milliseconds)"),
        (c.request_timeout > 0, "REQUEST_TIMEOUT must be positive"),
        (c.session_ttl_seconds >= 60, "SESSION_TTL must be at least 60 (seconds)"),
        (c.max_body_bytes >= 1024, "MAX_BODY_BYTES must be at least 1024"),
        (c.log_format in ("json", "console", "auto"), "LOG_FORMAT must be json, console or auto"),
        (c.log_schema in ("plain", "ecs"), "LOG_SCHEMA must be plain or ecs"),
        (
            c.log_level in ("DEBUG", "INFO", "WARNING", "ERROR"),
            "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR",
        ),
        (c.password_workers >= 1, "PASSWORD_WORKERS must be at least 1"),
        (c.shutdown_timeout >= 0, "SHUTDOWN_TIMEOUT must not be negative"),
        (c.low_stock_threshold >= 0, "LOW_STOCK_THRESHOLD must not be negative"),
        (c.login_per_email_per_minute > 0, "LOGIN_RATE_PER_EMAIL must be positive"),
        (c.login_per_address_per_minute > 0, "LOGIN_RATE_PER_ADDRESS must be positive"),
        (c.login_burst >= 1, "LOGIN_BURST must be at least 1"),
        (c.tenant_cache_size >= 1, "TENANT_CACHE_SIZE must be at least 1"),
        (c.unknown_tenants_per_minute > 0, "UNKNOWN_TENANT_RATE must be positive"),
        (c.unknown_tenants_burst >= 1, "UNKNOWN_TENANT_BURST must be at least 1"),
        (c.auth_cache_ttl >= 0, "AUTH_CACHE_TTL must not be negative"),
        (c.auth_cache_size >= 1, "AUTH_CACHE_SIZE must be at least 1"),
        (
            _is_connection_string(c.auth_listen_url)
            and bool(_connection_string("AUTH_LISTEN_DATABASE_URL", c.auth_listen_url)),
            "AUTH_LISTEN_DATABASE_URL must be a postgresql:// URL",
        ),
        (c.db_connect_timeout > 0, "DB_CONNECT_TIMEOUT must be positive"),
        (
            c.db_replica_pool_max is None or c.db_replica_pool_max >= 1,
            "DB_REPLICA_POOL_MAX must be at least 1",
        ),
        (c.replica_max_lag > 0, "REPLICA_MAX_LAG must be positive"),
        (c.replica_wait_ms >= 0, "REPLICA_WAIT_MS must not be negative"),
        (c.replica_poll_ms >= 10, "REPLICA_POLL_MS must be at least 10 (milliseconds)"),
        (
            not c.database_replica_urls or len(c.consistency_token_secret or "") >= 16,
            "CONSISTENCY_TOKEN_SECRET must be set (at least 16 characters) when"
            " DATABASE_REPLICA_URLS is: every worker must verify every other's tokens",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
