"""Every table, in one place. Migrations create them; repositories build statements on them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSON, UUID

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_now = sa.text("now()")
_uuid = sa.text("gen_random_uuid()")


def _tenant_fk() -> sa.Column[object]:
    return sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False)


tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    sa.Column("slug", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("currency", sa.Text, nullable=False, server_default="USD"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.UniqueConstraint("tenant_id", "email"),
    sa.CheckConstraint("role in ('admin', 'sales')", name="role"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", BYTEA, primary_key=True),  # SHA-256 of the token
    _tenant_fk(),
    sa.Column(
        "user_id", UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Index(None, "user_id"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("key_hash", BYTEA, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    # Who created it (migration 0008): a user, or the key that minted it; no foreign key, so
    # a listing still names a deleted creator.
    sa.Column("created_by_user_id", UUID(as_uuid=True)),
    sa.Column("created_by_key_id", UUID(as_uuid=True)),
    sa.CheckConstraint("role in ('admin', 'sales')", name="role"),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now),
    sa.UniqueConstraint("tenant_id", "email"),
    # Keyset pagination walks this index: newest first, id breaks ties.
    sa.Index(
        "ix_customers_tenant_page", "tenant_id", sa.text("created_at DESC"), sa.text("id DESC")
    ),
)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else _now,
    )


def _uuid_fk(name: str, target: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UUID(as_uuid=True), sa.ForeignKey(target), nullable=nullable)


products = sa.Table(
    "products",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    sa.Column("sku", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
    sa.Column("stock", sa.Integer, nullable=False, server_default="0"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _ts("created_at"),
    _ts("updated_at"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    _uuid_fk("customer_id", "customers.id"),
    sa.Column("status", sa.Text, nullable=False, server_default="placed"),
    sa.Column("total", sa.Numeric(12, 2), nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    _ts("created_at"),
    _ts("cancelled_at", nullable=True),
    sa.Column("cancel_reason", sa.Text),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    _uuid_fk("order_id", "orders.id"),
    _uuid_fk("product_id", "products.id"),
    sa.Column("line_no", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
    sa.Column("line_total", sa.Numeric(12, 2), nullable=False),
)

inventory_movements = sa.Table(
    "inventory_movements",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    _uuid_fk("product_id", "products.id"),
    sa.Column("delta", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    _uuid_fk("order_id", "orders.id", nullable=True),
    sa.Column("note", sa.Text),
    _ts("created_at"),
)

invoice_counters = sa.Table(
    "invoice_counters",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("last_number", sa.BigInteger, nullable=False),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    _uuid_fk("order_id", "orders.id"),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("amount", sa.Numeric(12, 2), nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    _ts("issued_at"),
    _ts("paid_at", nullable=True),
    _ts("voided_at", nullable=True),
    sa.Column("payment_method", sa.Text),
    sa.Column("payment_reference", sa.Text),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    _tenant_fk(),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("fingerprint", BYTEA, nullable=False),
    sa.Column("route", sa.Text, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("body", BYTEA, nullable=False),
    sa.Column("location", sa.Text),
    _ts("created_at"),
    _ts("completed_at"),
    sa.PrimaryKeyConstraint("tenant_id", "key"),
)

# ---- the change feed and webhooks (issue 18; docs/events.md) ---------------------------------

# One row per tenant: the last feed position handed out, and how far the purge has deleted.
# Positions are taken under this row's lock, held until COMMIT, so they follow commit order.
event_counters = sa.Table(
    "event_counters",
    metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("last_position", sa.BigInteger, nullable=False),
    sa.Column("purged_through", sa.BigInteger, nullable=False, server_default="0"),
)

events = sa.Table(
    "events",
    metadata,
    _tenant_fk(),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("id", UUID(as_uuid=True), nullable=False, unique=True, server_default=_uuid),
    sa.Column("type", sa.Text, nullable=False),
    _ts("occurred_at"),
    sa.Column("data", JSON, nullable=False),  # json, not jsonb: the bytes the API answered
    sa.PrimaryKeyConstraint("tenant_id", "position"),
)

webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("event_types", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("secret", BYTEA, nullable=False),  # encrypted (infrastructure/webhooks/secrets.py)
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    _ts("created_at"),
    _ts("updated_at"),
    _ts("disabled_at", nullable=True),
    # The feed position up to which this endpoint has been served: it is sent the events after.
    sa.Column("delivered_through", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    _ts("next_attempt_at"),
    # A deliverer's claim: the endpoint is its own until then (no lock is held meanwhile).
    _ts("lease_until", nullable=True),
    sa.Column("lease_owner", sa.Text),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True, server_default=_uuid),
    _tenant_fk(),
    sa.Column(
        "endpoint_id",
        UUID(as_uuid=True),
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", UUID(as_uuid=True), nullable=False),
    sa.Column("event_position", sa.BigInteger, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),  # succeeded, failed, or pending (a resend)
    sa.Column("status_code", sa.Integer),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("error", sa.Text),
    _ts("next_retry_at", nullable=True),
    _ts("created_at"),
    sa.CheckConstraint("outcome in ('succeeded', 'failed', 'pending')", name="outcome"),
)

# Tables whose rows belong to one tenant: row-level security is enabled and forced on each.
TENANT_TABLES = (
    "users",
    "sessions",
    "api_keys",
    "customers",
    "products",
    "inventory_movements",
    "orders",
    "order_lines",
    "invoice_counters",
    "invoices",
    "idempotency_keys",
    "event_counters",
    "events",
    "webhook_endpoints",
    "webhook_deliveries",
)
