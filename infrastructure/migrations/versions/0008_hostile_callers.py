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

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from infrastructure.db.tenancy import TENANT_SETTING

revision = "0008"
down_revision = "0006"
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

_TRIGGERS = (
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
    for trigger in _TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for table, trigger in (
        ("api_keys", "lineage_key_revoked"),
        ("api_keys", "lineage_key_deleted"),
        ("users", "lineage_user_demoted"),
        ("users", "lineage_user_deleted"),
    ):
        op.execute(f"drop trigger {trigger} on {table}")
    op.execute("drop function revoke_keys_of_key()")
    op.execute("drop function revoke_keys_of_user()")
    op.execute("drop function revoke_minted_keys(uuid, uuid, uuid)")
    op.drop_index("ix_api_keys_created_by_key", "api_keys")
    op.drop_index("ix_api_keys_created_by_user", "api_keys")
    op.drop_column("api_keys", "created_by_key_id")
    op.drop_column("api_keys", "created_by_user_id")
