"""Tenants, users, sessions, API keys and customers, with row-level security."""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA, UUID

from infrastructure.migrations.rls import (
    app_role,
    disable_tenant_isolation,
    enable_tenant_isolation,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_TABLES = ("users", "sessions", "api_keys", "customers")


def _id() -> sa.Column[Any]:
    return sa.Column(
        "id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")
    )


def _tenant_id() -> sa.Column[Any]:
    return sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False)


def _created_at() -> sa.Column[Any]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")
    )


def upgrade() -> None:
    op.create_table(
        "tenants",
        _id(),
        sa.Column("slug", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        _created_at(),
    )
    op.create_table(
        "users",
        _id(),
        _tenant_id(),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        _created_at(),
        sa.UniqueConstraint("tenant_id", "email"),
        sa.CheckConstraint("role in ('admin', 'sales')", name="role"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", BYTEA, primary_key=True),
        _tenant_id(),
        sa.Column(
            "user_id",
            UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _created_at(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "api_keys",
        _id(),
        _tenant_id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("key_hash", BYTEA, nullable=False, unique=True),
        _created_at(),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("role in ('admin', 'sales')", name="role"),
    )
    op.create_table(
        "customers",
        _id(),
        _tenant_id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("phone", sa.Text),
        _created_at(),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.UniqueConstraint("tenant_id", "email"),
    )
    op.execute(
        "create index ix_customers_tenant_page on customers (tenant_id, created_at desc, id desc)"
    )

    for table in TENANT_TABLES:
        enable_tenant_isolation(table)
    # The app role reads tenants but never creates or changes them.
    op.execute(f"revoke insert, update, delete, truncate on tenants from {app_role()}")


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        disable_tenant_isolation(table)
        op.drop_table(table)
    op.drop_table("tenants")
