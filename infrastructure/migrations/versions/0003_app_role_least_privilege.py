"""The app role keeps no privilege on alembic_version: only migrations (the owner) write it.

The database's default privileges hand DML on every new table to the app role, and the
first migration run creates alembic_version, so the app role could rewrite the schema
version (and make the next migration skip or repeat steps).
"""

from alembic import op

from infrastructure.migrations.rls import app_role

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(f"revoke all on alembic_version from {app_role()}")


def downgrade() -> None:
    op.execute(f"grant select, insert, update, delete on alembic_version to {app_role()}")
