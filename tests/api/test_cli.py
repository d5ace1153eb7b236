"""The operator CLI, run as a process: API keys, session purge, help texts, bad configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from app.cli import parser


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=os.environ if env is None else env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_api_keys_are_created_listed_and_revoked_from_the_command_line(tenant, seeder):
    created = cli("create-api-key", "--tenant", tenant.slug, "--name", "cron", "--role", "admin")
    assert created.returncode == 0, created.stderr
    key_id = created.stdout.split()[2]
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("sk_")

    listed = cli("list-api-keys", "--tenant", tenant.slug)
    assert listed.returncode == 0, listed.stderr
    assert key_id in listed.stdout and key not in listed.stdout

    revoked = cli("revoke-api-key", "--tenant", tenant.slug, "--id", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert seeder.count(tenant, "api_keys", "id = %s and revoked_at is not null", (key_id,)) == 1
    again = cli(
        "revoke-api-key", "--tenant", tenant.slug, "--id", "0" * 8 + "-0000-0000-0000-" + "0" * 12
    )
    assert again.returncode == 1 and "not found" in again.stderr


def test_purge_sessions_deletes_expired_and_revoked_ones_only(tenant, seeder):
    user = tenant.users["sales"]
    seeder.session(tenant, user, expires_in=timedelta(seconds=-1))
    seeder.session(tenant, user, revoked=True)
    seeder.session(tenant, user)  # live: kept
    result = cli("purge-sessions")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("purged ")
    assert seeder.count(tenant, "sessions") == 1


def test_a_missing_database_url_is_one_line_and_exit_2():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    result = cli("list-api-keys", "--tenant", "acme", env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_subcommand_and_option_has_help_text():
    top = parser()
    subparsers = next(a for a in top._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        assert subparsers._name_parser_map[name] is sub
        helps = {a.dest: a.help for a in sub._actions if a.dest != "help"}
        missing = [dest for dest, text in helps.items() if not text]
        assert missing == [], f"{name}: options without help: {missing}"
    described = {c.dest: c.help for c in subparsers._choices_actions}
    assert all(described.values()) and set(described) == set(subparsers.choices)


@pytest.mark.parametrize("command", ["list-api-keys", "revoke-api-key", "purge-sessions"])
def test_help_of_each_new_command_runs(command):
    result = cli(command, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout


def test_purge_sessions_also_drops_login_counts_that_no_longer_matter(tenant, seeder):
    insert = (
        "insert into login_throttle (tenant_id, key, failures, window_start, trusted_until)"
        " values (%s, %s, 3, now() - %s::interval, %s)"
    )
    seeder.run(tenant.id, insert, (str(tenant.id), "address:old", "2 days", None))
    seeder.run(tenant.id, insert, (str(tenant.id), "address:recent", "1 minute", None))
    trusted = datetime.now(UTC) + timedelta(days=10)
    seeder.run(tenant.id, insert, (str(tenant.id), "pair:old-but-trusted", "2 days", trusted))
    result = cli("purge-sessions")
    assert result.returncode == 0, result.stderr
    kept = {
        key
        for (key,) in seeder.run(
            tenant.id, "select key from login_throttle where tenant_id = %s", (str(tenant.id),)
        )
    }
    assert kept == {"address:recent", "pair:old-but-trusted"}
