"""Migration 0008 rewrites stored emails in their one form and reports, never drops, the rows
whose new form another row already has."""

from __future__ import annotations

import logging

import psycopg2
from alembic import command

from infrastructure.db.tenancy import ACT_AS_TENANT
from infrastructure.migrations import alembic_config
from tests.integration.test_migrations import scratch_owner_url  # noqa: F401  (fixture)


def _run(url: str, sql: str, params: tuple = (), tenant: str | None = None) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            if tenant is not None:
                cur.execute(ACT_AS_TENANT, {"tenant_id": tenant})
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def test_existing_emails_take_their_one_form_and_collisions_are_reported(
    scratch_owner_url,  # noqa: F811
    caplog,
):
    config = alembic_config(scratch_owner_url)
    command.upgrade(config, "0006")
    ((tenant,),) = _run(
        scratch_owner_url, "insert into tenants (slug, name) values ('t', 'T') returning id::text"
    )
    for email in ("wile@desert.test", "\uff57\uff49\uff4c\uff45@desert.test", "Road@Runner.TEST"):
        _run(
            scratch_owner_url,
            "insert into customers (tenant_id, name, email) values (%s, 'c', %s)",
            (tenant, email),
            tenant,
        )
    with caplog.at_level(logging.WARNING):
        command.upgrade(config, "head")
    emails = sorted(
        e for (e,) in _run(scratch_owner_url, "select email from customers", tenant=tenant)
    )
    # The fullwidth twin is kept as it was (reported), the other one is rewritten.
    assert emails == [
        "road@runner.test",
        "wile@desert.test",
        "\uff57\uff49\uff4c\uff45@desert.test",
    ]
    assert [r.getMessage() for r in caplog.records if "email_collision" in r.getMessage()]
