"""Configuration: one frozen dataclass, read from the environment once and validated at start.

Each setting is declared once, as a field of `Config`: its type, its default and, in the
field's metadata (`env(...)`, app/runtime/settings.py), the environment variable, the
one-line description, the parser and the check. Reading, validation, `python -m app --help`
and `--check`, and the README's settings table (`scripts/settings-table`) all come from these
fields; `tests/unit/test_house_plan.py` fails when the README's table drifts from them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from app.runtime.settings import (
    NOT_NEGATIVE,
    POSITIVE,
    Check,
    ConfigError,
    at_least,
    between,
    env,
    host_names,
    is_connection_string,
    is_postgres_url,
    lower,
    one_of,
    postgres_urls,
    read,
    seconds_list,
    upper,
)

__all__ = ["Config", "ConfigError", "for_workers", "load_config", "read_places", "usable_cores"]


def _domain(name: str, raw: str) -> str | None:
    return raw.lower().strip(".") or None


_OTLP_URL = Check(
    lambda url: url is None or url.startswith(("http://", "https://")),
    "be an http:// or https:// URL (OTLP over HTTP)",
)


@dataclass(frozen=True, slots=True)
class Config:
    # the app role: DML only, row-level security enforced
    database_url: str = field(
        metadata=env(
            "DATABASE_URL",
            '`postgresql://` or `postgres://` URL (or libpq `key=value` string) of the **app role** (`sales_app`). libpq\'s multi-host forms are accepted (`postgresql://u@h1:5432,h2:5432/sales?target_session_attrs=read-write`, `host=h1,h2 port=5432,5432 …`): the service walks the list to the primary itself and follows a failover (docs/operations.md, "Failover").',
            check=Check(
                is_connection_string,
                "be set to a postgresql:// URL (or key=value string; several hosts allowed) for the app role",
            ),
        )
    )
    # the owner role, for migrations and operator jobs
    migration_database_url: str = field(
        metadata=env(
            "MIGRATION_DATABASE_URL",
            "URL of the **owner role**. The server itself never connects with it. `app.cli migrate`, `seed-demo` and `purge-idempotency-keys` use it.",
            shown="`DATABASE_URL`",
            fallback="database_url",
        )
    )
    app_db_role: str = field(
        default="sales_app",
        metadata=env(
            "APP_DB_ROLE",
            "The role `app.cli migrate` grants DML to (`--app-role` overrides it). The first migration revokes writes on `tenants` from that role.",
        ),
    )
    host: str = field(default="127.0.0.1", metadata=env("HOST", "Address to listen on."))
    port: int = field(
        default=8080, metadata=env("PORT", "Port to listen on (1-65535).", check=between(1, 65535))
    )
    # The admin port: /metrics, /livez, /readyz, /dashboard. Loopback by default so only the
    # host (or a sidecar scraper) reaches it; 0 disables it.
    admin_host: str = field(
        default="127.0.0.1",
        metadata=env(
            "ADMIN_HOST",
            "Address of the admin port: `/metrics`, `/livez`, `/readyz`, `/dashboard`.",
        ),
    )
    admin_port: int = field(
        default=9090,
        metadata=env(
            "ADMIN_PORT",
            "The admin port; `0` turns it off. Must differ from `PORT`.",
            check=between(0, 65535, "off"),
        ),
    )
    # Set by a process manager running several workers (prometheus-client multiprocess mode,
    # app/runtime/gunicorn_conf.py): where every worker writes its metrics for one scrape.
    metrics_dir: str | None = field(
        default=None,
        metadata=env(
            "PROMETHEUS_MULTIPROC_DIR",
            "Under gunicorn, where the workers write their metrics; emptied at start if you set it.",
            shown="a new temporary directory per run",
        ),
    )
    db_pool_min: int = field(
        default=1,
        metadata=env(
            "DB_POOL_MIN", "Connections opened at start (0 to `DB_POOL_MAX`).", check=NOT_NEGATIVE
        ),
    )
    db_pool_max: int = field(
        default=17,
        metadata=env(
            "DB_POOL_MAX",
            "Pool size **per process**. With `--workers N`, the service can open N x this many.",
            check=at_least(1),
        ),
    )
    db_pool_acquire_timeout: float = field(
        default=5.0,
        metadata=env(
            "DB_POOL_ACQUIRE_TIMEOUT",
            "Seconds to wait for a free connection before answering 503 `pool-timeout`.",
            check=POSITIVE,
        ),
    )
    db_pool_max_waiters: int = field(
        default=500,
        metadata=env(
            "DB_POOL_MAX_WAITERS",
            "Once this many requests are waiting and no connection is free, new ones get 503 `pool-saturated` at once.",
            check=at_least(1),
        ),
    )
    # Database-backed reads / commands one worker works on at once; the rest queue
    # (app/edge/admission.py; the defaults are measured in docs/performance.md). None: derived
    # from how many workers share the cores (`read_places`), once the worker count is known.
    max_active_reads: int | None = field(
        default=None,
        metadata=env(
            "MAX_ACTIVE_READS",
            "Database-backed GET requests one worker works on at once; the rest wait their turn in a queue, holding nothing. With as many workers as cores, the others keep the CPU busy while one waits on PostgreSQL, so one place is enough (measured in docs/performance.md).",
            check=at_least(1),
            shown="`2`, or `1` when `--workers` ≥ cores",
        ),
    )
    max_active_commands: int = field(
        default=4,
        metadata=env(
            "MAX_ACTIVE_COMMANDS",
            "The same for commands (POST/PUT/PATCH/DELETE), in a queue of their own: they wait on row locks while they hold their place.",
            check=at_least(1),
        ),
    )
    max_queued_requests: int = field(
        default=4000,
        metadata=env(
            "MAX_QUEUED_REQUESTS",
            "Once this many requests queue at a gate, new ones get 503 `overloaded` at once.",
            check=NOT_NEGATIVE,
        ),
    )
    db_statement_timeout_ms: int = field(
        default=5000,
        metadata=env(
            "DB_STATEMENT_TIMEOUT",
            "Milliseconds. Set as `statement_timeout` in every tenant-scoped read and every command (not the tenant lookup); a statement that runs longer gets 503 `query-timeout`. The driver's own per-operation timeout is this plus 5 s.",
            check=at_least(1, "milliseconds"),
        ),
    )
    request_timeout: float = field(
        default=15.0,
        metadata=env(
            "REQUEST_TIMEOUT",
            "Seconds allowed for tenant lookup, authentication and the handler together. Past it: 503 `request-timeout`, and any open transaction is rolled back.",
            check=POSITIVE,
        ),
    )
    default_tenant: str | None = field(
        default=None,
        metadata=env(
            "DEFAULT_TENANT", "Tenant slug used when neither `X-Tenant` nor the host names one."
        ),
    )
    base_domain: str | None = field(
        default=None,
        metadata=env(
            "BASE_DOMAIN",
            "When set, `acme.<BASE_DOMAIN>` in `Host` selects the tenant `acme`.",
            parse=_domain,
        ),
    )
    tenant_cache_ttl: float = field(
        default=60.0,
        metadata=env(
            "TENANT_CACHE_TTL",
            "Seconds a slug → tenant lookup is cached in the process. Unknown slugs are cached for 5 s.",
        ),
    )
    tenant_cache_size: int = field(
        default=10_000,
        metadata=env(
            "TENANT_CACHE_SIZE",
            "Slugs the cache holds; past it the least recently used one is evicted.",
            check=at_least(1),
        ),
    )
    # New unknown tenant slugs one client address may try (each costs a round trip).
    unknown_tenants_per_minute: float = field(
        default=30.0,
        metadata=env(
            "UNKNOWN_TENANT_RATE",
            "Per minute: lookups of slugs that turn out unknown, per client address; past the burst, 429 with `Retry-After`. Cached answers never count.",
            check=POSITIVE,
        ),
    )
    unknown_tenants_burst: int = field(
        default=20,
        metadata=env("UNKNOWN_TENANT_BURST", "Bucket size of the above.", check=at_least(1)),
    )
    session_ttl_seconds: int = field(
        default=8 * 3600,
        metadata=env(
            "SESSION_TTL",
            "Session lifetime in seconds (8 h), also the cookie's `Max-Age`. At least 60.",
            check=at_least(60, "seconds"),
        ),
    )
    max_body_bytes: int = field(
        default=1024 * 1024,
        metadata=env(
            "MAX_BODY_BYTES", "Larger request bodies get 413. At least 1024.", check=at_least(1024)
        ),
    )
    log_format: str = field(
        default="auto",
        metadata=env(
            "LOG_FORMAT",
            "`json`, `console`, or `auto`: console on a terminal, JSON otherwise.",
            parse=lower,
            check=one_of("json", "console", "auto"),
        ),
    )
    log_level: str = field(
        default="INFO",
        metadata=env(
            "LOG_LEVEL",
            "`DEBUG`, `INFO`, `WARNING` or `ERROR`. The per-request log line is `INFO`.",
            parse=upper,
            check=one_of("DEBUG", "INFO", "WARNING", "ERROR"),
        ),
    )
    log_schema: str = field(
        default="plain",
        metadata=env(
            "LOG_SCHEMA",
            "`plain`, or `ecs` for Elastic Common Schema field names (with JSON; docs/logging.md).",
            parse=lower,
            check=one_of("plain", "ecs"),
        ),
    )
    # OpenTelemetry's own variables (issue 20): tracing is on when an OTLP endpoint is set;
    # the exporter reads the rest (headers, timeout, batching) from the environment itself.
    otlp_endpoint: str | None = field(
        default=None,
        metadata=env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            'OpenTelemetry: when set (an `http(s)://` OTLP/HTTP collector), each worker exports a server span per request with children for the admission wait, the pool checkout and each statement. The exporter reads the other standard `OTEL_EXPORTER_OTLP_*` and `OTEL_BSP_*` variables. Unset: only the ids (`traceparent` in and out, `trace_id` in logs). docs/operations.md, "Tracing".',
            check=_OTLP_URL,
        ),
    )
    otlp_traces_endpoint: str | None = field(
        default=None,
        metadata=env(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "The same for traces only; takes precedence over `OTEL_EXPORTER_OTLP_ENDPOINT`.",
            check=_OTLP_URL,
        ),
    )
    otel_service_name: str = field(
        default="sales-api",
        metadata=env("OTEL_SERVICE_NAME", "The `service.name` of exported spans."),
    )
    cookie_secure: bool = field(
        default=False,
        metadata=env(
            "COOKIE_SECURE", "Adds `Secure` to the session cookie. Turn it on behind HTTPS."
        ),
    )
    # One argon2 thread: a login storm then takes at most one core of two, not the machine.
    password_workers: int = field(
        default=1,
        metadata=env(
            "PASSWORD_WORKERS",
            "Threads that run argon2 password checks; one keeps a login storm to one core of two (see docs/performance.md).",
            check=at_least(1),
        ),
    )
    shutdown_timeout: float = field(
        default=10.0,
        metadata=env(
            "SHUTDOWN_TIMEOUT",
            "Seconds that in-flight requests get to finish after SIGTERM (gunicorn's graceful timeout, rounded up to whole seconds).",
            check=NOT_NEGATIVE,
        ),
    )
    low_stock_threshold: int = field(
        default=5,
        metadata=env(
            "LOW_STOCK_THRESHOLD",
            "The dashboard lists active products with stock at or below this.",
            check=NOT_NEGATIVE,
        ),
    )
    dashboard_cache_ttl: float = field(
        default=2.0,
        metadata=env(
            "DASHBOARD_CACHE_TTL",
            "Seconds each worker reuses a tenant's dashboard; callers that miss at the same moment share one query. `0` computes it on every request.",
            check=NOT_NEGATIVE,
        ),
    )
    # Issue 16 (failover): how long one server of a host list may take to accept a connection,
    # apart from the statement timeout (infrastructure/db/finder.py).
    db_connect_timeout: float = field(
        default=2.0,
        metadata=env(
            "DB_CONNECT_TIMEOUT",
            "Seconds one server of a host list gets to accept a connection (apart from `DB_STATEMENT_TIMEOUT`). After a walk of the list finds no server, commands get 503 `database-unavailable` at once while a probe walks it every 0.25 s.",
            check=POSITIVE,
        ),
    )
    # Issue 19, hostile callers: limits on token lookups that miss the cache, API-key
    # lineage, failed logins (kept in PostgreSQL) and the admin port's host names.
    auth_failures_per_minute: float = field(
        default=60.0,
        metadata=env(
            "AUTH_FAILURE_RATE",
            "Per minute: failed token lookups (a token not in the worker's cache that turns out unknown) per client address; past the burst, 429 with `Retry-After` before any round trip. Cached tokens never count.",
            check=POSITIVE,
        ),
    )
    auth_failures_burst: int = field(
        default=20,
        metadata=env("AUTH_FAILURE_BURST", "Bucket size of the above.", check=at_least(1)),
    )
    auth_lookup_concurrency: int = field(
        default=2,
        metadata=env(
            "AUTH_LOOKUP_CONCURRENCY",
            "Token lookups that miss the cache one worker runs at once: what a flood of unknown tokens can take of the pool at most.",
            check=at_least(1),
        ),
    )
    auth_lookup_queue: int = field(
        default=1000,
        metadata=env(
            "AUTH_LOOKUP_QUEUE",
            "Lookups that may wait for those places (a cold cache meets a burst of known callers: 100 concurrent orders must not be refused); past it, 503 `overloaded` at once.",
            check=NOT_NEGATIVE,
        ),
    )
    api_key_max_days: int = field(
        default=365,
        metadata=env(
            "API_KEY_MAX_DAYS",
            "The longest a key minted by a never-expiring key may live (a key minted by a key never outlives it; one created by a user may be open-ended).",
            check=at_least(1),
        ),
    )
    login_failures_per_account_address: int = field(
        default=5,
        metadata=env(
            "LOGIN_FAILURES_PER_ACCOUNT_ADDRESS",
            "Failed logins for one account from one address within the window; past it that address is refused (429) for that account only. Kept in PostgreSQL: every worker and instance shares the counts.",
            check=at_least(1),
        ),
    )
    login_failures_per_address: int = field(
        default=30,
        metadata=env(
            "LOGIN_FAILURES_PER_ADDRESS",
            "Failed logins from one address (any account of the tenant) within the window; past it the address is refused.",
            check=at_least(1),
        ),
    )
    login_failures_per_account: int = field(
        default=100,
        metadata=env(
            "LOGIN_FAILURES_PER_ACCOUNT",
            "Failed logins for one account from all addresses within the window; past it the account refuses every address it has not logged in from in the last 30 days (a distributed guess).",
            check=at_least(1),
        ),
    )
    login_failure_window: int = field(
        default=900,
        metadata=env(
            "LOGIN_FAILURE_WINDOW",
            "Seconds each count runs before it starts over.",
            check=at_least(1, "seconds"),
        ),
    )
    admin_allowed_hosts: tuple[str, ...] = field(
        default=(),
        metadata=env(
            "ADMIN_ALLOWED_HOSTS",
            "Comma-separated host names (no port) the admin port answers; any other `Host` gets 421, so a web page cannot read `/dashboard.json` through DNS rebinding. Add the name your scraper uses.",
            parse=host_names,
            shown="`ADMIN_HOST` and `localhost`",
        ),
    )
    # Issue 18: the change feed and webhooks (docs/events.md).
    webhook_secret_key: str | None = field(
        default=None,
        metadata=env(
            "WEBHOOK_SECRET_KEY",
            "Key that encrypts webhook secrets at rest, at least 16 characters; the same for the service and every deliverer. Unset: endpoints cannot be created (503). `scripts/run` makes a development key once (`.venv/webhook-secret-key`).",
            check=Check(lambda v: v is None or len(v) >= 16, "be at least 16 characters"),
            secret=True,
        ),
    )
    webhook_allow_private: bool = field(
        default=False,
        metadata=env(
            "WEBHOOK_ALLOW_PRIVATE",
            "Allow webhook URLs on loopback, private or link-local addresses: tests and local development only.",
        ),
    )
    webhook_timeout: float = field(
        default=10.0,
        metadata=env(
            "WEBHOOK_TIMEOUT",
            "Seconds a webhook call may take; a 2xx within it is a success.",
            check=POSITIVE,
        ),
    )
    webhook_retry_schedule: tuple[float, ...] = field(
        default=(5, 300, 1800, 7200, 18000, 36000, 36000),
        metadata=env(
            "WEBHOOK_RETRY_SCHEDULE",
            "Seconds between attempts after a failure (±20 % jitter); when the last fails too, the endpoint is disabled.",
            parse=seconds_list,
            shown="`5,300,1800,7200,18000,36000,36000`",
        ),
    )
    event_retention_days: float = field(
        default=30.0,
        metadata=env(
            "EVENT_RETENTION_DAYS",
            "Days of events `python -m app.cli purge-events` keeps; older cursors answer 410.",
            check=POSITIVE,
        ),
    )
    webhook_concurrency: int = field(
        default=16,
        metadata=env(
            "WEBHOOK_CONCURRENCY", "Endpoints one deliver process calls at once.", check=at_least(1)
        ),
    )
    deliver_metrics_port: int = field(
        default=0,
        metadata=env(
            "DELIVER_METRICS_PORT",
            "Port of the deliverer's `/metrics` on `ADMIN_HOST`; 0: none.",
            check=between(0, 65535, "none"),
        ),
    )
    # Issue 21, the admin dashboard: how much history it keeps and how often it samples, and
    # the pg_monitor role its PostgreSQL panel reads pg_stat_activity as (None: no panel).
    dashboard_history_seconds: float = field(
        default=3600.0,
        metadata=env(
            "DASHBOARD_HISTORY_SECONDS",
            'Seconds of history the admin dashboard keeps in memory (fixed-size, per process serving the admin port; docs/operations.md, "The admin dashboard"). At least `DASHBOARD_SAMPLE_SECONDS`.',
            check=POSITIVE,
        ),
    )
    dashboard_sample_seconds: float = field(
        default=1.0,
        metadata=env(
            "DASHBOARD_SAMPLE_SECONDS",
            "Seconds between the dashboard's samples of the whole service (at least 0.1).",
            check=at_least(0.1, "seconds"),
        ),
    )
    monitor_database_url: str | None = field(
        default=None,
        metadata=env(
            "MONITOR_DATABASE_URL",
            '`postgresql://` URL of a role granted only `pg_monitor` (`scripts/run` provisions `sales_monitor`), for the dashboard\'s PostgreSQL panel. Unset: the panel says "not configured".',
            check=Check(lambda url: url is None or is_postgres_url(url), "be a postgresql:// URL"),
        ),
    )
    login_per_address_per_minute: float = field(
        default=60.0,
        metadata=env(
            "LOGIN_RATE_PER_ADDRESS",
            "Login attempts per minute per client address.",
            check=POSITIVE,
        ),
    )
    login_burst: int = field(
        default=10,
        metadata=env(
            "LOGIN_BURST",
            "The per-address login bucket holds 3 x this attempts.",
            check=at_least(1),
        ),
    )
    auth_cache_ttl: float = field(
        default=60.0,
        metadata=env(
            "AUTH_CACHE_TTL",
            "Seconds a worker may answer a token from its principal cache before it looks it up again. Revocations reach every worker at once through PostgreSQL notifications; this is only a cap. `0` turns the cache off: every request looks its token up.",
            check=NOT_NEGATIVE,
        ),
    )
    auth_cache_size: int = field(
        default=10_000,
        metadata=env(
            "AUTH_CACHE_SIZE",
            "Principals each worker keeps (least recently used go first).",
            check=at_least(1),
        ),
    )
    # Where the auth cache's listener connects (LISTEN needs a session of its own, which
    # PgBouncer in transaction mode does not give); None: DATABASE_URL.
    auth_listen_database_url: str | None = field(
        default=None,
        metadata=env(
            "AUTH_LISTEN_DATABASE_URL",
            "Where each worker's listener connects to hear revocations (one connection per worker, outside the pool); multi-host forms too. **Behind PgBouncer in transaction mode, point it at PostgreSQL itself**: LISTEN needs a session of its own. Without a way to listen the cache stays off (the `listener_deaf` event says so).",
            check=Check(
                lambda url: url is None or is_connection_string(url),
                "be a postgresql:// URL (or key=value string; several hosts allowed)",
            ),
            shown="`DATABASE_URL`",
        ),
    )
    # Issue 22: answers kept in memory by their ETag (app/edge/response_cache.py).
    response_cache_mb: float = field(
        default=8.0,
        metadata=env(
            "RESPONSE_CACHE_MB",
            "Megabytes of read answers each worker keeps by their ETag, so a repeated read costs no round trip (least recently used go first). `0` turns it off; ETags and 304s stay.",
            check=NOT_NEGATIVE,
        ),
    )
    api_key_use_flush: float = field(
        default=10.0,
        metadata=env(
            "API_KEY_USE_FLUSH",
            "Seconds between a worker's batched writes of API keys' `last_used_at` (one background task, one UPDATE per tenant); the listed last use lags by up to this.",
            check=POSITIVE,
        ),
    )
    # Hot standbys (app role) that serve tenant-scoped reads (docs/architecture.md, "Reads on
    # replicas"); empty: every read goes to the primary, exactly as without this feature.
    database_replica_urls: tuple[str, ...] = field(
        default=(),
        metadata=env(
            "DATABASE_REPLICA_URLS",
            'Comma-separated `postgresql://` URLs of hot standbys (**app role**); each may be a multi-host URL (a new URL starts at its scheme). Tenant-scoped reads of `GET` requests go to one in rotation; commands and the tenant lookup stay on the primary. Unset: every read on the primary, no token issued or read. See docs/architecture.md, "Reads on replicas".',
            parse=postgres_urls,
        ),
    )
    db_replica_pool_max: int | None = field(
        default=None,
        metadata=env(
            "DB_REPLICA_POOL_MAX",
            "Pool size **per process** for each replica.",
            check=at_least(1),
            shown="`DB_POOL_MAX`",
        ),
    )
    replica_max_lag: float = field(
        default=1.0,
        metadata=env(
            "REPLICA_MAX_LAG",
            "Seconds. A replica further behind the primary than this leaves the read rotation until it catches up; a read without a token sees every write committed longer ago than this.",
            check=POSITIVE,
        ),
    )
    replica_wait_ms: int = field(
        default=50,
        metadata=env(
            "REPLICA_WAIT_MS",
            "Milliseconds a read with a `Consistency-Token` waits for a replica to replay that far before it runs on the primary.",
            check=NOT_NEGATIVE,
        ),
    )
    replica_poll_ms: int = field(
        default=100,
        metadata=env(
            "REPLICA_POLL_MS",
            "Milliseconds between polls of the replicas' replay positions (one poller per process, at least 10).",
            check=at_least(10, "milliseconds"),
        ),
    )
    # The HMAC key of Consistency-Token; required with replicas, shared by every worker and
    # every instance behind the same load balancer (a token from one must verify at another).
    consistency_token_secret: str | None = field(
        default=None,
        metadata=env(
            "CONSISTENCY_TOKEN_SECRET",
            "HMAC key of `Consistency-Token`, at least 16 characters. Give every process and instance of a deployment the same one: a token issued by one worker must verify at every other. `scripts/run --replica` generates one per run.",
            shown="none; **required** with replicas",
            secret=True,
        ),
    )

    # Which of the process manager's workers this process is (1-based, reused when a worker is
    # replaced), and how many there are: derived at start (`for_workers`), never read from the
    # environment.
    worker: int = 1
    workers: int = 1

    @property
    def allowed_admin_hosts(self) -> tuple[str, ...]:
        return self.admin_allowed_hosts or (self.admin_host, "localhost")

    @property
    def tracing_endpoint(self) -> str | None:
        """Where spans go (OpenTelemetry's precedence); None: tracing is off."""
        return self.otlp_traces_endpoint or self.otlp_endpoint

    @property
    def auth_listen_url(self) -> str:
        return self.auth_listen_database_url or self.database_url

    @property
    def replica_pool_max(self) -> int:
        return self.db_replica_pool_max or self.db_pool_max


# Rules between settings, checked once every value is read.
RELATIONS: tuple[tuple[Callable[[Config], bool], str], ...] = (
    (
        lambda c: c.admin_port == 0 or (c.admin_port, c.admin_host) != (c.port, c.host),
        "ADMIN_PORT must differ from PORT",
    ),
    (lambda c: c.db_pool_min <= c.db_pool_max, "DB_POOL_MIN must be between 0 and DB_POOL_MAX"),
    (
        lambda c: c.dashboard_history_seconds >= c.dashboard_sample_seconds,
        "DASHBOARD_HISTORY_SECONDS must be at least DASHBOARD_SAMPLE_SECONDS",
    ),
    (
        lambda c: not c.database_replica_urls or len(c.consistency_token_secret or "") >= 16,
        "CONSISTENCY_TOKEN_SECRET must be set (at least 16 characters) when"
        " DATABASE_REPLICA_URLS is: every worker must verify every other's tokens",
    ),
)

# Read by others than `Config`, documented in the same README table.
OTHER_SETTINGS: tuple[tuple[str, str, str], ...] = (
    (
        "WEB_CONCURRENCY",
        "`1`",
        "Workers under gunicorn when `--workers` is not given (gunicorn's own setting).",
    ),
)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    config = read(Config, os.environ if environ is None else environ)
    for holds, message in RELATIONS:
        if not holds(config):
            raise ConfigError(message)
    return config


def usable_cores() -> int:
    """Cores this process may run on (CPU affinity, e.g. taskset or a cpuset), not the host's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def read_places(workers: int, cores: int) -> int:
    """The default MAX_ACTIVE_READS for one of `workers` processes on `cores` cores.

    While a read waits on PostgreSQL, its worker needs a second read to keep the CPU busy,
    unless other workers fill the cores meanwhile (one place is enough then; measured in
    docs/performance.md).
    """
    return 1 if workers >= cores else 2


def for_workers(config: Config, workers: int, worker: int = 1) -> Config:
    """The config worker `worker` of `workers` processes serves with: MAX_ACTIVE_READS, when
    not set, follows from how many workers share this process's cores."""
    reads = config.max_active_reads
    if reads is None:
        reads = read_places(workers, usable_cores())
    return replace(config, max_active_reads=reads, workers=workers, worker=worker)
