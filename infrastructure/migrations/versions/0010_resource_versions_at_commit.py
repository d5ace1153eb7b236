"""A command's resource versions advance at its commit, not at its first write.

Under 0009 every writing statement upserted its tenant's version row for the kind and held
that row lock until commit, so concurrent commands of one tenant queued behind each other
from their first write (`mixed` 0.87 of before, hold p99 28 -> 65 ms; docs/performance.md).

Now a transaction that sets `app.versions_at_commit` (the UnitOfWork's BEGIN does) only notes
which (kind, tenant) pairs its statements touched, in the transaction-local setting
`app.versions_touched`, and advances them all in the message that commits it
(`resource_versions_commit()`, first in that message, before the feed's events take the
tenant's feed counter). The version row is then locked for the commit message only, and a
command whose version row is held by someone else (an operator's open transaction) waits
before it holds the feed counter, so it does not stall the tenant's other commands.
Every other writer (an operator's plain SQL, the CLI, the seed) advances the versions at its
statement as before, so nothing that changes a read goes unannounced.

The function advances only the four kinds of the transaction's own tenant (its tenant setting),
whatever the setting says, so the app role cannot advance another tenant's versions through
it. A transaction that noted pairs but never called it commits unannounced; only the
UnitOfWork sets the flag, and its commit message always calls it.
"""

import importlib

from alembic import op

from infrastructure.db.tenancy import TENANT_SETTING
from infrastructure.migrations.rls import app_role

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

CHANNEL = "resource_versions"  # as in 0009
# 0009 itself: its kinds, what each event's statement touched, and (in downgrade) its functions.
_0009 = importlib.import_module("infrastructure.migrations.versions.0009_resource_versions")

# The pairs touched so far: ",kind|tenant,kind|tenant," (delimited on both sides, so a pair is
# found with one position() call).
_NOTE = """
    create function resource_versions_note(of_kind text, tenants uuid[]) returns void
    language plpgsql security definer set search_path = public, pg_temp as $$
    declare
        touched text := coalesce(nullif(current_setting('app.versions_touched', true), ''), ',');
        tenant uuid;
    begin
        foreach tenant in array tenants loop
            if position(',' || of_kind || '|' || tenant || ',' in touched) = 0 then
                touched := touched || of_kind || '|' || tenant || ',';
            end if;
        end loop;
        perform set_config('app.versions_touched', touched, true);
    end
    $$
"""

# Advance and announce; tenants in order, so two writers lock the rows in the same order.
_ADVANCE = f"""
    create function resource_versions_advance(of_kind text, tenants uuid[]) returns void
    language plpgsql security definer set search_path = public, pg_temp as $$
    declare
        bumped record;
    begin
        for bumped in
            insert into resource_versions as v (tenant_id, kind, version)
            select t, of_kind, 1 from unnest(tenants) t
            group by t
            order by t
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
    end
    $$
"""

# Only the four kinds, and only the transaction's own tenant: `app.versions_touched` is a
# setting the app role could write itself, and must not let it advance (or invent) another
# tenant's versions. Kinds in name order, so two commits of one tenant lock its version rows in
# the same order. The flag goes off first: a write after this call would be noted and lost.
_COMMIT = """
    create function resource_versions_commit() returns void
    language plpgsql security definer set search_path = public, pg_temp as $$
    declare
        touched text := nullif(current_setting('app.versions_touched', true), '');
        tenant uuid := nullif(current_setting('TENANT_SETTING', true), '')::uuid;
        pending record;
    begin
        perform set_config('app.versions_at_commit', 'off', true);
        if touched is null or tenant is null then
            return;
        end if;
        perform set_config('app.versions_touched', '', true);
        for pending in
            select split_part(pair, '|', 1) as kind
            from unnest(string_to_array(trim(both ',' from touched), ',')) pair
            where split_part(pair, '|', 1) in (KINDS)
                and split_part(pair, '|', 2) = tenant::text
            group by 1
            order by 1
        loop
            perform resource_versions_advance(pending.kind, array[tenant]);
        end loop;
    end
    $$
""".replace("KINDS", ", ".join(sorted({f"'{kind}'" for _, kind in _0009._TABLES}))).replace(
    "TENANT_SETTING", TENANT_SETTING
)


def _trigger_function(event: str, touched: str) -> str:
    """0009's trigger function for one event, now noting instead of advancing when the
    transaction advances its versions at commit."""
    return f"""
    create or replace function resource_versions_{event}() returns trigger
    language plpgsql security definer set search_path = public, pg_temp as $$
    declare
        tenants uuid[] := array(select distinct t.tenant_id from ({touched}) t);
    begin
        if cardinality(tenants) = 0 then
            return null;
        elsif current_setting('app.versions_at_commit', true) = 'on' then
            perform resource_versions_note(tg_argv[0], tenants);
        else
            perform resource_versions_advance(tg_argv[0], tenants);
        end if;
        return null;
    end
    $$
    """


# Truncate (no transition table, every tenant of the kind) keeps 0009's function.
_TOUCHED = {event: touched for event, touched in _0009._TOUCHED.items() if event != "truncate"}


def upgrade() -> None:
    for function in (_NOTE, _ADVANCE, _COMMIT):
        op.execute(function)
    # Only the triggers note and advance; the app role may only commit what they noted.
    for name in ("note(text, uuid[])", "advance(text, uuid[])", "commit()"):
        op.execute(f"revoke execute on function resource_versions_{name} from public")
    op.execute(f"grant execute on function resource_versions_commit() to {app_role()}")
    for event, touched in _TOUCHED.items():
        op.execute(_trigger_function(event, touched))


def downgrade() -> None:
    # 0009's trigger functions again (the triggers stay), then nothing calls the new ones.
    for event, touched in _TOUCHED.items():
        op.execute(_0009._function(event, touched).replace("create", "create or replace", 1))
    for name in ("commit()", "advance(text, uuid[])", "note(text, uuid[])"):
        op.execute(f"drop function resource_versions_{name}")
