"""Operator commands: `python -m app.cli --help` lists them; each has its own --help.

Each reads the same Config as the service (DATABASE_URL, MIGRATION_DATABASE_URL, APP_DB_ROLE)
and builds what it needs through the bootstrap; none starts the web app.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from app.runtime.bootstrap import Services, bootstrap
from app.runtime.config import Config, ConfigError, load_config
from domain.errors import DomainError
from domain.model.identity import Principal, Tenant
from domain.model.paging import Keyset, PageRequest
from infrastructure.db.errors import DatabaseError, DatabaseUnavailable

# 42P01 undefined_table: the database exists but was never migrated.
_UNMIGRATED = "42P01"

T = TypeVar("T")


def migrate(config: Config, args: argparse.Namespace) -> int:
    from alembic import command

    from infrastructure.migrations import alembic_config

    app_role = args.app_role or config.app_db_role
    command.upgrade(alembic_config(config.migration_database_url, app_role), args.revision)
    print(f"migrated to {args.revision}")
    return 0


def seed_demo(config: Config, _: argparse.Namespace) -> int:
    from infrastructure.security.passwords import Argon2Hasher
    from infrastructure.seed import seed_demo as run

    hasher = Argon2Hasher(workers=1)
    ids = run(config.migration_database_url, hasher.hash)
    hasher.close()
    print("demo data ready: " + ", ".join(f"{slug} ({tid})" for slug, tid in ids.items()))
    return 0


def _in_tenant(
    config: Config, slug: str, work: Callable[[Services, Tenant], Awaitable[T]]
) -> T | None:
    """Run `work` as the operator of tenant `slug`; None (after saying why) when it is unknown."""

    async def run() -> T | None:
        container = bootstrap(config)
        try:
            tenant = await container.services.tenants.by_slug(slug)
            if tenant is None:
                print(f"unknown tenant {slug!r}", file=sys.stderr)
                return None
            return await work(container.services, tenant)
        finally:
            await container.close()

    return asyncio.run(run())


def _exit_code(result: int | None) -> int:
    return 1 if result is None else result


def create_api_key(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Services, tenant: Tenant) -> int:
        issued = await services.auth.create_api_key(
            Principal.operator(tenant.id), args.name, args.role, args.expires_at
        )
        print(f"api key {issued.api_key.id} for tenant {tenant.slug} (role {args.role});")
        print("shown once, store it now:")
        print(issued.key)
        return 0

    return _exit_code(_in_tenant(config, args.tenant, work))


def list_api_keys(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Services, tenant: Tenant) -> int:
        operator, after = Principal.operator(tenant.id), None
        print("id\tname\trole\tcreated\texpires\tlast used\trevoked")
        while True:
            page = await services.auth.list_api_keys(operator, PageRequest(100, after))
            for k in page.items:
                cells = [k.id, k.name, k.role, k.created_at, k.expires_at, k.last_used_at]
                print("\t".join(str(c or "-") for c in [*cells, k.revoked_at]))
            if page.next_cursor is None:
                return 0
            after = Keyset.decode(page.next_cursor)

    return _exit_code(_in_tenant(config, args.tenant, work))


def revoke_api_key(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Services, tenant: Tenant) -> int:
        await services.auth.revoke_api_key(Principal.operator(tenant.id), args.id)
        print(f"api key {args.id} of tenant {tenant.slug} is revoked")
        return 0

    return _exit_code(_in_tenant(config, args.tenant, work))


def revoke_sessions(config: Config, args: argparse.Namespace) -> int:
    async def work(services: Services, tenant: Tenant) -> int:
        ended = await services.auth.revoke_sessions(tenant.id, args.email)
        print(f"ended {ended} sessions of {args.email} in tenant {tenant.slug}")
        return 0

    return _exit_code(_in_tenant(config, args.tenant, work))


def purge_idempotency_keys(config: Config, _: argparse.Namespace) -> int:
    from infrastructure.idempotency import purge_expired

    removed = purge_expired(config.migration_database_url)
    print(f"purged {removed} idempotency keys older than 24 hours")
    return 0


def purge_sessions(config: Config, _: argparse.Namespace) -> int:
    from infrastructure.sessions import purge_dead_sessions, purge_stale_login_counts

    removed = purge_dead_sessions(config.migration_database_url)
    print(f"purged {removed} expired or revoked sessions")
    counts = purge_stale_login_counts(config.migration_database_url)
    print(f"purged {counts} login failure counts that no longer matter")
    return 0


def purge_events(config: Config, _: argparse.Namespace) -> int:
    from infrastructure.events_retention import purge_old_events

    days = config.event_retention_days
    removed = purge_old_events(config.migration_database_url, days)
    print(f"purged {removed} events older than {days:g} days (EVENT_RETENTION_DAYS)")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m app.cli",
        description="Operator commands for the sales API (configured like the service).",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("migrate", help="apply migrations as the owner role")
    p.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    p.add_argument("--app-role", help="the role granted DML (default: APP_DB_ROLE, sales_app)")
    p.set_defaults(func=migrate)
    p = sub.add_parser("seed-demo", help="create demo tenants, users and customers (idempotent)")
    p.set_defaults(func=seed_demo)
    p = sub.add_parser("create-api-key", help="create an API key for a tenant; prints it once")
    p.add_argument("--tenant", required=True, help="the tenant's slug")
    p.add_argument("--name", required=True, help="what the key is for, e.g. the client's name")
    p.add_argument(
        "--role", choices=["admin", "sales"], default="sales", help="its role (default: sales)"
    )
    p.add_argument(
        "--expires-at",
        type=_aware_datetime,
        help="ISO 8601 time with offset after which the key is refused (default: never)",
    )
    p.set_defaults(func=create_api_key)
    p = sub.add_parser("list-api-keys", help="list a tenant's API keys (never their secrets)")
    p.add_argument("--tenant", required=True, help="the tenant's slug")
    p.set_defaults(func=list_api_keys)
    p = sub.add_parser("revoke-api-key", help="revoke an API key; it is refused from then on")
    p.add_argument("--tenant", required=True, help="the tenant's slug")
    p.add_argument("--id", required=True, type=UUID, help="the key's id (see list-api-keys)")
    p.set_defaults(func=revoke_api_key)
    p = sub.add_parser(
        "revoke-sessions", help="end every session of a user (e.g. after a password reset)"
    )
    p.add_argument("--tenant", required=True, help="the tenant's slug")
    p.add_argument("--email", required=True, help="the user's email")
    p.set_defaults(func=revoke_sessions)
    p = sub.add_parser(
        "purge-idempotency-keys", help="delete idempotency records older than 24 h (run daily)"
    )
    p.set_defaults(func=purge_idempotency_keys)
    p = sub.add_parser("purge-sessions", help="delete expired and revoked sessions (run daily)")
    p.set_defaults(func=purge_sessions)
    p = sub.add_parser(
        "purge-events",
        help="delete change feed events and delivery logs past EVENT_RETENTION_DAYS (run daily)",
    )
    p.set_defaults(func=purge_events)
    return top


def _aware_datetime(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time with an offset, e.g. 2027-01-01T00:00:00Z")
    return value


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(config, args))
    except DomainError as exc:
        print(f"refused: {exc.detail}", file=sys.stderr)
        return 1
    except DatabaseUnavailable as exc:
        print(f"database unavailable: {exc.detail}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        hint = " (not migrated yet? run: migrate)" if exc.sqlstate == _UNMIGRATED else ""
        print(f"database error: {str(exc).splitlines()[0]}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
