"""Configuration is read once from the environment; a bad value stops the start with one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.runtime.config import (
    Config,
    ConfigError,
    for_workers,
    load_config,
    read_places,
    usable_cores,
)
from app.runtime.settings import effective, help_text, settings_of

BASE = {"DATABASE_URL": "postgresql://app@localhost/sales"}


def test_defaults_match_the_documented_ones() -> None:
    c = load_config(BASE)
    assert (c.host, c.port, c.db_pool_max, c.db_pool_acquire_timeout) == (
        "127.0.0.1",
        8080,
        17,
        5.0,
    )
    assert c.max_body_bytes == 1024 * 1024
    assert c.migration_database_url == BASE["DATABASE_URL"]
    assert c.app_db_role == "sales_app"
    assert c.log_format == "auto" and c.cookie_secure is False


def test_values_are_parsed_from_the_environment() -> None:
    c = load_config(
        {
            **BASE,
            "PORT": "9000",
            "DB_POOL_MAX": "5",
            "COOKIE_SECURE": "yes",
            "BASE_DOMAIN": ".Sales.Test.",
        }
    )
    assert (c.port, c.db_pool_max, c.cookie_secure, c.base_domain) == (9000, 5, True, "sales.test")


def test_the_auth_cache_is_on_for_a_minute_and_listens_where_the_pool_connects() -> None:
    c = load_config(BASE)
    assert (c.auth_cache_ttl, c.auth_cache_size) == (60.0, 10_000)
    assert c.auth_listen_url == BASE["DATABASE_URL"]
    direct = "postgresql://app@db-primary/sales"
    c = load_config({**BASE, "AUTH_LISTEN_DATABASE_URL": direct, "AUTH_CACHE_TTL": "0"})
    assert (c.auth_listen_url, c.auth_cache_ttl) == (direct, 0.0)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({**BASE, "PORT": "eighty"}, "PORT"),
        ({**BASE, "PORT": "70000"}, "PORT"),
        ({**BASE, "DB_POOL_MAX": "0"}, "DB_POOL_MAX"),
        ({**BASE, "DB_POOL_MIN": "20"}, "DB_POOL_MIN"),
        ({**BASE, "DB_POOL_ACQUIRE_TIMEOUT": "soon"}, "DB_POOL_ACQUIRE_TIMEOUT"),
        ({**BASE, "COOKIE_SECURE": "maybe"}, "COOKIE_SECURE"),
        ({**BASE, "LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({**BASE, "SESSION_TTL": "5"}, "SESSION_TTL"),
        ({**BASE, "AUTH_CACHE_TTL": "-1"}, "AUTH_CACHE_TTL"),
        ({**BASE, "AUTH_CACHE_SIZE": "0"}, "AUTH_CACHE_SIZE"),
        ({**BASE, "AUTH_LISTEN_DATABASE_URL": "pgbouncer:6432"}, "AUTH_LISTEN_DATABASE_URL"),
    ],
)
def test_an_invalid_value_is_refused_naming_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        load_config(env)


def test_the_process_exits_at_start_with_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        env={"DATABASE_URL": BASE["DATABASE_URL"], "PORT": "not-a-port", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: PORT must be an integer, got 'not-a-port'"
    ]


@pytest.mark.parametrize(
    ("workers", "cores", "places"),
    [(1, 2, 2), (2, 2, 1), (4, 2, 1), (2, 8, 2), (8, 8, 1)],
)
def test_a_worker_alone_on_its_cores_takes_two_reads_at_once_else_one(
    workers: int, cores: int, places: int
) -> None:
    assert read_places(workers, cores) == places


def test_admission_defaults_match_the_documented_ones() -> None:
    c = load_config(BASE)
    assert (c.max_active_commands, c.max_queued_requests) == (4, 4000)
    # Read places follow from the worker count unless MAX_ACTIVE_READS says otherwise.
    assert c.max_active_reads is None
    assert for_workers(c, 1).max_active_reads == read_places(1, usable_cores())
    pinned = load_config(BASE | {"MAX_ACTIVE_READS": "3"})
    assert for_workers(pinned, 8).max_active_reads == 3
    assert c.dashboard_cache_ttl == 2.0


def test_without_replicas_nothing_about_them_is_required() -> None:
    c = load_config(BASE)
    assert c.database_replica_urls == ()
    assert c.consistency_token_secret is None
    assert (c.replica_max_lag, c.replica_wait_ms, c.replica_poll_ms) == (1.0, 50, 100)
    assert c.replica_pool_max == c.db_pool_max


def test_replicas_are_a_comma_separated_list_with_their_own_pool_size() -> None:
    c = load_config(
        {
            **BASE,
            "DATABASE_REPLICA_URLS": "postgresql://app@r1/sales, postgres://app@r2/sales",
            "DB_REPLICA_POOL_MAX": "8",
            "CONSISTENCY_TOKEN_SECRET": "s" * 16,
        }
    )
    assert c.database_replica_urls == ("postgresql://app@r1/sales", "postgres://app@r2/sales")
    assert c.replica_pool_max == 8


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"DATABASE_REPLICA_URLS": "postgresql://app@r1/sales"}, "CONSISTENCY_TOKEN_SECRET"),
        (
            {"DATABASE_REPLICA_URLS": "postgresql://r1/s", "CONSISTENCY_TOKEN_SECRET": "short"},
            "CONSISTENCY_TOKEN_SECRET",
        ),
        ({"DATABASE_REPLICA_URLS": "mysql://r1/s"}, "DATABASE_REPLICA_URLS"),
        ({"REPLICA_MAX_LAG": "0"}, "REPLICA_MAX_LAG"),
        ({"REPLICA_WAIT_MS": "-1"}, "REPLICA_WAIT_MS"),
        ({"REPLICA_POLL_MS": "5"}, "REPLICA_POLL_MS"),
        ({"DB_REPLICA_POOL_MAX": "0"}, "DB_REPLICA_POOL_MAX"),
    ],
)
def test_bad_replica_settings_name_their_variable(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config({**BASE, **env})


def test_help_names_every_setting_with_its_default() -> None:
    text = help_text(Config)
    for f, setting in settings_of(Config):
        assert setting.env in text, f"{f.name} is missing from --help"
    assert "PORT                         8080" in text


def test_check_shows_what_differs_from_the_defaults_without_passwords_or_secrets() -> None:
    c = load_config(
        {
            "DATABASE_URL": "postgresql://app:hunter2@db/sales",
            "PORT": "9000",
            "DATABASE_REPLICA_URLS": "postgresql://app:hunter2@r1/sales",
            "CONSISTENCY_TOKEN_SECRET": "s3cret-s3cret-s3cret",
        }
    )
    shown = effective(c)
    assert "PORT=9000" in shown and "HOST=127.0.0.1" not in shown
    assert "DATABASE_URL=postgresql://app:***@db/sales" in shown
    assert "CONSISTENCY_TOKEN_SECRET=(set)" in shown
    assert not any("hunter2" in line or "s3cret" in line for line in shown)


def test_webhooks_default_to_ten_seconds_and_about_28_hours_of_retries() -> None:
    c = load_config(BASE)
    assert c.webhook_timeout == 10.0 and c.event_retention_days == 30
    assert c.webhook_retry_schedule == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert c.webhook_secret_key is None and not c.webhook_allow_private
    tuned = load_config({**BASE, "WEBHOOK_RETRY_SCHEDULE": "1, 2.5", "WEBHOOK_ALLOW_PRIVATE": "1"})
    assert tuned.webhook_retry_schedule == (1.0, 2.5) and tuned.webhook_allow_private


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_RETRY_SCHEDULE", "5,soon"),
        ("WEBHOOK_RETRY_SCHEDULE", "-1"),
        ("WEBHOOK_SECRET_KEY", "short"),
        ("WEBHOOK_TIMEOUT", "0"),
        ("EVENT_RETENTION_DAYS", "0"),
    ],
)
def test_a_bad_webhook_setting_is_refused_naming_it(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config({**BASE, name: value})
