"""Hostile callers (issue 19): API-key lineage revoked by the database itself.

Each key records who created it: a user (`created_by_user_id`) or the key that minted it
(`created_by_key_id`); both null for keys an operator created or keys older than this. No
foreign keys: the creator stays visible in listings after it is deleted.

Triggers revoke, transitively, everything minted from a user that is deleted or demoted
from admin, and from a key that is revoked or deleted, whatever made the change (the API,
the CLI, an operator's plain SQL). The revocations are ordinary updates of `api_keys`, so
migration 0006's triggers notify every worker's principal cache of each of them. Row-level
security is forced on the owner too, so the trigger acts as the changed row's tenant for its
one update and then puts the session's setting back.

Login throttling shared by every worker and instance: `login_throttle`, an UNLOGGED table
(failure counts are worth no WAL and may be lost in a crash, which only forgives them), with
tenant isolation like every tenant table, and two functions the app role calls in one
statement each (infrastructure/repositories/login_throttle.py explains the policy).

Emails of users and customers are rewritten in the one form the service now stores and
compares (domain/model/emails.py). A row whose new form another row of its tenant already
has, or that has no valid form, is left as it was and reported (a warning naming the table,
the row ids and the reason): an operator decides, nothing is dropped.
"""

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from domain.errors import InvalidInput
from domain.model.emails import normalize_email
from infrastructure.db.tenancy import ACT_AS_TENANT, TENANT_SETTING
from infrastructure.migrations.rls import enable_tenant_isolation

log = logging.getLogger("alembic.runtime.migration")

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_REVOKE_MINTED = f"""
create function revoke_minted_keys(tenant uuid, by_user uuid, by_key uuid)
returns void language plpgsql as $$
declare
    previous text := current_setting('{TENANT_SETTING}', true);
begin
    perform set_config('{TENANT_SETTING}', tenant::text, true);
    update api_keys set revoked_at = now()
    where tenant_id = tenant and revoked_at is null
      and (created_by_user_id = by_user or created_by_key_id = by_key);
    perform set_config('{TENANT_SETTING}', coalesce(previous, ''), true);
end
$$
"""

_ON_USER = """
create function revoke_keys_of_user() returns trigger language plpgsql as $$
begin
    perform revoke_minted_keys(old.tenant_id, old.id, null);
    return null;
end
$$
"""

_ON_KEY = """
create function revoke_keys_of_key() returns trigger language plpgsql as $$
begin
    perform revoke_minted_keys(old.tenant_id, null, old.id);
    return null;
end
$$
"""

_THROTTLE_TABLE = """
create unlogged table login_throttle (
    tenant_id uuid not null,
    key text not null,
    failures integer not null default 0,
    window_start timestamptz not null default now(),
    trusted_until timestamptz,
    constraint pk_login_throttle primary key (tenant_id, key)
)
"""

# One call per attempt, before the password is checked: refused (the seconds to wait) or
# counted as a failure up front, all under the rows' locks, so concurrent attempts from any
# worker cannot slip past a limit together. A refused attempt counts nowhere: hammering a
# locked (account, address) pair cannot push the account's own ceiling.
_THROTTLE_ATTEMPT = """
create function login_throttle_attempt(
    t uuid, pair text, address text, account text,
    pair_limit integer, address_limit integer, account_limit integer, window_s integer
) returns integer language plpgsql as $$
declare
    win interval := make_interval(secs => window_s);
    p login_throttle;
    a login_throttle;
    u login_throttle;
    wait_s integer := 0;
begin
    insert into login_throttle (tenant_id, key)
    values (t, pair), (t, address), (t, account) on conflict do nothing;
    -- One order for every caller: two attempts share at most one of these rows anyway.
    perform 1 from login_throttle
    where tenant_id = t and key in (pair, address, account) order by key for update;
    update login_throttle set failures = 0, window_start = now()
    where tenant_id = t and key in (pair, address, account) and window_start + win <= now();
    select * into p from login_throttle where tenant_id = t and key = pair;
    select * into a from login_throttle where tenant_id = t and key = address;
    select * into u from login_throttle where tenant_id = t and key = account;
    if p.failures >= pair_limit then
        wait_s := greatest(wait_s, ceil(extract(epoch from p.window_start + win - now())));
    end if;
    if a.failures >= address_limit then
        wait_s := greatest(wait_s, ceil(extract(epoch from a.window_start + win - now())));
    end if;
    -- An address this account logged in from lately is not held to the account's ceiling.
    if u.failures >= account_limit and coalesce(p.trusted_until <= now(), true) then
        wait_s := greatest(wait_s, ceil(extract(epoch from u.window_start + win - now())));
    end if;
    if wait_s > 0 then
        return wait_s;
    end if;
    update login_throttle set failures = failures + 1
    where tenant_id = t and key in (pair, address, account);
    return 0;
end
$$
"""

# A correct password: the attempt was no failure after all. The pair starts over and is
# trusted for `trust_s`; the address and the account get their one count back.
_THROTTLE_SUCCESS = """
create function login_throttle_success(
    t uuid, pair text, address text, account text, trust_s integer
) returns void language plpgsql as $$
begin
    update login_throttle
    set failures = 0, trusted_until = now() + make_interval(secs => trust_s)
    where tenant_id = t and key = pair;
    update login_throttle set failures = greatest(failures - 1, 0)
    where tenant_id = t and key in (address, account);
end
$$
"""

# A new password ends every session of the user, however it was set (there is no password
# route; an operator resets one by SQL): a stolen session must not outlive the reset.
_ON_PASSWORD = f"""
create function revoke_sessions_of_user() returns trigger language plpgsql as $$
declare
    previous text := current_setting('{TENANT_SETTING}', true);
begin
    perform set_config('{TENANT_SETTING}', new.tenant_id::text, true);
    update sessions set revoked_at = now()
    where tenant_id = new.tenant_id and user_id = new.id and revoked_at is null;
    perform set_config('{TENANT_SETTING}', coalesce(previous, ''), true);
    return null;
end
$$
"""

_TRIGGERS = (
    "create trigger password_changed after update of password_hash on users for each row"
    " when (old.password_hash is distinct from new.password_hash)"
    " execute function revoke_sessions_of_user()",
    "create trigger lineage_user_deleted after delete on users"
    " for each row execute function revoke_keys_of_user()",
    "create trigger lineage_user_demoted after update of role on users for each row"
    " when (old.role = 'admin' and new.role is distinct from 'admin')"
    " execute function revoke_keys_of_user()",
    "create trigger lineage_key_deleted after delete on api_keys"
    " for each row execute function revoke_keys_of_key()",
    # A revocation of the children fires this again for each of them: transitive.
    "create trigger lineage_key_revoked after update of revoked_at on api_keys for each row"
    " when (old.revoked_at is null and new.revoked_at is not null)"
    " execute function revoke_keys_of_key()",
)


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("created_by_user_id", UUID(as_uuid=True)))
    op.add_column("api_keys", sa.Column("created_by_key_id", UUID(as_uuid=True)))
    op.execute(
        "create index ix_api_keys_created_by_user on api_keys (created_by_user_id)"
        " where created_by_user_id is not null"
    )
    op.execute(
        "create index ix_api_keys_created_by_key on api_keys (created_by_key_id)"
        " where created_by_key_id is not null"
    )
    op.execute(_REVOKE_MINTED)
    op.execute(_ON_USER)
    op.execute(_ON_KEY)
    op.execute(_ON_PASSWORD)
    for trigger in _TRIGGERS:
        op.execute(trigger)
    op.execute(_THROTTLE_TABLE)
    enable_tenant_isolation("login_throttle")
    op.execute(_THROTTLE_ATTEMPT)
    op.execute(_THROTTLE_SUCCESS)
    _normalize_existing_emails()


def _normalize_existing_emails() -> None:
    bind = op.get_bind()
    tenants = [row[0] for row in bind.execute(sa.text("select id from tenants"))]
    for tenant in tenants:
        # RLS is forced on the owner too: act as each tenant in turn (this transaction only).
        bind.exec_driver_sql(ACT_AS_TENANT, {"tenant_id": str(tenant)})
        for table in ("users", "customers"):
            _normalize_table(bind, table)


def _normalize_table(bind: sa.engine.Connection, table: str) -> None:
    rows = bind.execute(sa.text(f"select id, email from {table} order by created_at, id")).all()
    taken = {email for _, email in rows}
    for row_id, email in rows:
        try:
            normal = normalize_email(email)
        except InvalidInput as exc:
            log.warning("email_not_normalised table=%s id=%s reason=%s", table, row_id, exc)
            continue
        if normal == email:
            continue
        if normal in taken:
            owners = [str(other) for other, e in rows if e == normal or other == row_id]
            log.warning("email_collision table=%s ids=%s email_form=%s", table, owners, normal)
            continue
        bind.execute(
            sa.text(f"update {table} set email = :email where id = :id"),
            {"email": normal, "id": row_id},
        )
        taken.discard(email)
        taken.add(normal)


def downgrade() -> None:
    op.execute("drop function login_throttle_success(uuid, text, text, text, integer)")
    op.execute(
        "drop function login_throttle_attempt("
        "uuid, text, text, text, integer, integer, integer, integer)"
    )
    op.execute("drop table login_throttle")
    for table, trigger in (
        ("api_keys", "lineage_key_revoked"),
        ("api_keys", "lineage_key_deleted"),
        ("users", "lineage_user_demoted"),
        ("users", "lineage_user_deleted"),
        ("users", "password_changed"),
    ):
        op.execute(f"drop trigger {trigger} on {table}")
    op.execute("drop function revoke_sessions_of_user()")
    op.execute("drop function revoke_keys_of_key()")
    op.execute("drop function revoke_keys_of_user()")
    op.execute("drop function revoke_minted_keys(uuid, uuid, uuid)")
    op.drop_index("ix_api_keys_created_by_key", "api_keys")
    op.drop_index("ix_api_keys_created_by_user", "api_keys")
    op.drop_column("api_keys", "created_by_key_id")
    op.drop_column("api_keys", "created_by_user_id")
