"""Notify every worker when access is withdrawn or altered.

Each worker caches principals (infrastructure/repositories/identity_cache.py) and drops them
when PostgreSQL says so. These triggers say so on every change that can withdraw or alter
access, whatever made it (logout, the API, the CLI, an operator's plain SQL): any update or
delete of a session or an API key, a change of a user's role, email, name or tenant, a user's
deletion, and a truncate. Notifications are sent on commit, so a rolled-back change says
nothing. One statement touching more than _MANY rows sends a single 'all' instead of one
notification per row (a purge would otherwise flood every listener).

Payloads on channel `auth_invalidation` (parsed in identity_cache.py):
`session:<tenant_id>:<hex digest>`, `api_key:<tenant_id>:<hex digest>`,
`user:<tenant_id>:<user_id>`, `all`.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHANNEL = "auth_invalidation"
_MANY = 1000

# (table, payload of one old row, extra condition for an update to count)
_TABLES = (
    ("sessions", "'session:' || o.tenant_id || ':' || encode(o.id, 'hex')", "true"),
    (
        "api_keys",
        "'api_key:' || o.tenant_id || ':' || encode(o.key_hash, 'hex')",
        # Recording when a key was last used (at most once a minute) alters no access.
        "n.id is null or (o.tenant_id, o.role, o.key_hash, o.revoked_at, o.expires_at)"
        " is distinct from (n.tenant_id, n.role, n.key_hash, n.revoked_at, n.expires_at)",
    ),
    (
        "users",
        "'user:' || o.tenant_id || ':' || o.id",
        # A password change alters nothing a cached principal carries.
        "n.id is null or (o.tenant_id, o.role, o.email, o.name)"
        " is distinct from (n.tenant_id, n.role, n.email, n.name)",
    ),
)


def _function(table: str, payload: str, changed: str) -> str:
    return f"""
    create function auth_notify_{table}() returns trigger language plpgsql as $$
    declare
        touched bigint;
    begin
        if tg_op = 'TRUNCATE' then
            perform pg_notify('{CHANNEL}', 'all');
            return null;
        end if;
        select count(*) into touched from old_rows;
        if touched > {_MANY} then
            perform pg_notify('{CHANNEL}', 'all');
        elsif tg_op = 'DELETE' then
            perform pg_notify('{CHANNEL}', {payload}) from old_rows o;
        else
            perform pg_notify('{CHANNEL}', {payload})
            from old_rows o left join new_rows n on n.id = o.id
            where {changed};
        end if;
        return null;
    end
    $$
    """


def upgrade() -> None:
    for table, payload, changed in _TABLES:
        op.execute(_function(table, payload, changed))
        # Transition tables allow one event per trigger, hence three triggers per table.
        op.execute(
            f"create trigger auth_notify_update after update on {table}"
            " referencing old table as old_rows new table as new_rows"
            f" for each statement execute function auth_notify_{table}()"
        )
        op.execute(
            f"create trigger auth_notify_delete after delete on {table}"
            " referencing old table as old_rows"
            f" for each statement execute function auth_notify_{table}()"
        )
        op.execute(
            f"create trigger auth_notify_truncate after truncate on {table}"
            f" for each statement execute function auth_notify_{table}()"
        )


def downgrade() -> None:
    for table, _, _ in reversed(_TABLES):
        for event in ("truncate", "delete", "update"):
            op.execute(f"drop trigger auth_notify_{event} on {table}")
        op.execute(f"drop function auth_notify_{table}()")
