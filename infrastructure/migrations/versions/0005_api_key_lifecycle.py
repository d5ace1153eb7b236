"""API keys get a lifecycle: an optional expiry and when they were last used."""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.add_column("api_keys", sa.Column("last_used_at", sa.DateTime(timezone=True)))
    op.execute(
        "create index ix_api_keys_tenant_page on api_keys (tenant_id, created_at desc, id desc)"
    )


def downgrade() -> None:
    op.drop_index("ix_api_keys_tenant_page", "api_keys")
    op.drop_column("api_keys", "last_used_at")
    op.drop_column("api_keys", "expires_at")
