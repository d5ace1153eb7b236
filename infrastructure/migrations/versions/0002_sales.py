"""Products, stock movements, orders, invoices, invoice counters, idempotency keys."""

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA, UUID

from infrastructure.migrations.rls import disable_tenant_isolation, enable_tenant_isolation

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "products",
    "inventory_movements",
    "orders",
    "order_lines",
    "invoice_counters",
    "invoices",
    "idempotency_keys",
)
_now = sa.text("now()")


def _id() -> sa.Column[Any]:
    return sa.Column(
        "id", UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()")
    )


def _tenant_id() -> sa.Column[Any]:
    return sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False)


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else _now,
    )


def _money(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Numeric(12, 2), nullable=False)


def upgrade() -> None:
    op.add_column("tenants", sa.Column("currency", sa.Text, nullable=False, server_default="USD"))
    op.create_table(
        "products",
        _id(),
        _tenant_id(),
        sa.Column("sku", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        _money("unit_price"),
        sa.Column("stock", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("tenant_id", "sku"),
        sa.CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
    )
    op.execute(
        "create index ix_products_tenant_page on products (tenant_id, created_at desc, id desc)"
    )
    op.execute("create index ix_products_tenant_stock on products (tenant_id, stock) where active")
    op.create_table(
        "orders",
        _id(),
        _tenant_id(),
        sa.Column("customer_id", UUID(as_uuid=True), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="placed"),
        _money("total"),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        _ts("created_at"),
        _ts("cancelled_at", nullable=True),
        sa.CheckConstraint("status in ('placed', 'cancelled')", name="status"),
    )
    op.execute("create index ix_orders_tenant_page on orders (tenant_id, created_at desc, id desc)")
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    op.create_table(
        "order_lines",
        _id(),
        _tenant_id(),
        sa.Column("order_id", UUID(as_uuid=True), sa.ForeignKey("orders.id"), nullable=False),
        sa.Column("product_id", UUID(as_uuid=True), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        _money("unit_price"),
        _money("line_total"),
        sa.UniqueConstraint("order_id", "line_no"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )
    op.create_index("ix_order_lines_product_id", "order_lines", ["product_id"])
    op.create_table(
        "inventory_movements",
        _id(),
        _tenant_id(),
        sa.Column("product_id", UUID(as_uuid=True), sa.ForeignKey("products.id"), nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("order_id", UUID(as_uuid=True), sa.ForeignKey("orders.id")),
        sa.Column("note", sa.Text),
        _ts("created_at"),
        sa.CheckConstraint("reason in ('order', 'cancel', 'adjustment')", name="reason"),
        sa.CheckConstraint("delta <> 0", name="delta_not_zero"),
    )
    op.create_index("ix_inventory_movements_product_id", "inventory_movements", ["product_id"])
    op.create_index("ix_inventory_movements_order_id", "inventory_movements", ["order_id"])
    op.create_table(
        "invoice_counters",
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("last_number", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "invoices",
        _id(),
        _tenant_id(),
        sa.Column(
            "order_id", UUID(as_uuid=True), sa.ForeignKey("orders.id"), nullable=False, unique=True
        ),
        sa.Column("number", sa.Text, nullable=False),
        _money("amount"),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        _ts("issued_at"),
        _ts("paid_at", nullable=True),
        _ts("voided_at", nullable=True),
        sa.UniqueConstraint("tenant_id", "number"),
        sa.CheckConstraint("status in ('open', 'paid', 'void')", name="status"),
    )
    op.execute(
        "create index ix_invoices_tenant_page on invoices (tenant_id, issued_at desc, id desc)"
    )
    op.create_table(
        "idempotency_keys",
        _tenant_id(),
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
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        disable_tenant_isolation(table)
    op.drop_table("idempotency_keys")
    op.drop_table("invoices")
    op.drop_table("invoice_counters")
    op.drop_table("inventory_movements")
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("products")
    op.drop_column("tenants", "currency")
