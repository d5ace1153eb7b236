"""Operator commands: `python -m app.cli migrate | seed-demo | create-api-key | purge-idempotency-keys`.

Each reads the same Config as the service (DATABASE_URL, MIGRATION_DATABASE_URL, APP_DB_ROLE)
and builds what it needs through the bootstrap; none starts the web app.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from alembic import command

from app.runtime.bootstrap import bootstrap
from app.runtime.config import Config, ConfigError, load_config


def migrate(config: Config, args: argparse.Namespace) -> int:
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


def create_api_key(config: Config, args: argparse.Namespace) -> int:
    return asyncio.run(_create_api_key(config, args.tenant, args.name, args.role))


async def _create_api_key(config: Config, slug: str, name: str, role: str) -> int:
    container = bootstrap(config)
    services = container.services
    try:
        tenant = await services.tenants.by_slug(slug)
        if tenant is None:
            print(f"unknown tenant {slug!r}", file=sys.stderr)
            return 1
        key_id, key = await services.auth.create_api_key(tenant.id, name, role)  # type: ignore[arg-type]
    finally:
        await container.close()
    print(f"api key {key_id} for tenant {slug} (role {role}); shown once, store it now:")
    print(key)
    return 0


def purge_idempotency_keys(config: Config, _: argparse.Namespace) -> int:
    from infrastructure.idempotency import purge_expired

    removed = purge_expired(config.migration_database_url)
    print(f"purged {removed} idempotency keys older than 24 hours")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="apply migrations as the owner role")
    p.add_argument("revision", nargs="?", default="head")
    p.add_argument("--app-role", help="the role granted DML (default: APP_DB_ROLE, sales_app)")
    p.set_defaults(func=migrate)
    p = sub.add_parser("seed-demo", help="create demo tenants, users and customers (idempotent)")
    p.set_defaults(func=seed_demo)
    p = sub.add_parser("create-api-key", help="create an API key for a tenant; prints it once")
    p.add_argument("--tenant", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=["admin", "sales"], default="sales")
    p.set_defaults(func=create_api_key)
    p = sub.add_parser("purge-idempotency-keys", help="delete idempotency records older than 24 h")
    p.set_defaults(func=purge_idempotency_keys)
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return int(args.func(config, args))


if __name__ == "__main__":
    sys.exit(main())
