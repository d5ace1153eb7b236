"""Versions per tenant and resource kind, advanced by the database in the writing transaction.

Each worker answers `If-None-Match` (304) and repeats of a read from memory only while it
knows that nothing the answer depends on has changed (app/edge/freshness.py). These
statement-level triggers make PostgreSQL say so, whatever wrote (a command, the CLI, an
operator's plain SQL): every insert, update, delete or truncate of a table that a read shows
advances `resource_versions(tenant_id, kind)` by one, in the writing transaction, and
notifies `resource_versions` with `<tenant_id>:<kind>:<version>:<statement time, unix µs>`
(the time lets each worker measure how long notifications take); the notification is
delivered on commit, so a rolled-back write says nothing and a worker never hears a version
before its data is visible.

Kinds: customers (customers), products (products), orders (orders, order_lines), invoices
(invoices). The dashboard's version is the four together (app/edge/freshness.py).

The counter row is locked from the statement until commit, so writes of one kind in one
tenant commit one at a time from that statement on; rows are taken in tenant order within a
statement. The app role may read the counters (the listener reads them all, no tenant set)
but not write them: only these SECURITY DEFINER functions do.
"""

from alembic import op

from infrastructure.migrations.rls import app_role

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CHANNEL = "resource_versions"

# table -> the kind its rows belong to
_TABLES = (
    ("customers", "customers"),
    ("products", "products"),
    ("orders", "orders"),
    ("order_lines", "orders"),
    ("invoices", "invoices"),
)


def _function(event: str, touched: str) -> str:
    """The trigger function for one event (a transition table exists only for its event):
    advance the version of every tenant the statement touched, and announce each."""
    return f"""
    create function resource_versions_{event}() returns trigger
    language plpgsql security definer set search_path = public, pg_temp as $$
    declare
        of_kind text := tg_argv[0];
        bumped record;
    begin
        for bumped in
            insert into resource_versions as v (tenant_id, kind, version)
            select t.tenant_id, of_kind, 1 from ({touched}) t
            group by t.tenant_id
            order by t.tenant_id
            on conflict on constraint pk_resource_versions
            do update set version = v.version + 1
            returning v.tenant_id, v.version
        loop
            perform pg_notify(
                '{CHANNEL}',
                bumped.tenant_id || ':' || of_kind || ':' || bumped.version
                    || ':' || (extract(epoch from clock_timestamp()) * 1000000)::bigint
            );
        end loop;
        return null;
    end
    $$
    """


# A truncate has no transition table: it advances every tenant's version of the kind.
_TOUCHED = {
    "insert": "select tenant_id from new_rows",
    "update": "select tenant_id from old_rows union all select tenant_id from new_rows",
    "delete": "select tenant_id from old_rows",
    "truncate": "select tenant_id from resource_versions where kind = of_kind",
}


def upgrade() -> None:
    op.execute(
        "create table resource_versions ("
        " tenant_id uuid not null references tenants (id) on delete cascade,"
        " kind text not null,"
        " version bigint not null,"
        " constraint pk_resource_versions primary key (tenant_id, kind))"
    )
    # The database's default privileges give the app role DML on new tables: it keeps only
    # select, so a version advances only through the triggers.
    op.execute(f"revoke insert, update, delete, truncate on resource_versions from {app_role()}")
    op.execute(f"grant select on resource_versions to {app_role()}")
    for event, touched in _TOUCHED.items():
        op.execute(_function(event, touched))
    for table, kind in _TABLES:
        for event, old_new in (
            ("insert", "new table as new_rows"),
            ("update", "old table as old_rows new table as new_rows"),
            ("delete", "old table as old_rows"),
        ):
            op.execute(
                f"create trigger resource_versions_{event} after {event} on {table}"
                f" referencing {old_new}"
                f" for each statement execute function resource_versions_{event}('{kind}')"
            )
        op.execute(
            f"create trigger resource_versions_truncate after truncate on {table}"
            f" for each statement execute function resource_versions_truncate('{kind}')"
        )


def downgrade() -> None:
    for table, _ in reversed(_TABLES):
        for event in ("truncate", "delete", "update", "insert"):
            op.execute(f"drop trigger resource_versions_{event} on {table}")
    for event in ("truncate", "delete", "update", "insert"):
        op.execute(f"drop function resource_versions_{event}()")
    op.execute("drop table resource_versions")
