"""What a payment and a cancellation say: payment method and reference, cancel reason."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("payment_method", sa.Text))
    op.add_column("invoices", sa.Column("payment_reference", sa.Text))
    op.add_column("orders", sa.Column("cancel_reason", sa.Text))


def downgrade() -> None:
    op.drop_column("orders", "cancel_reason")
    op.drop_column("invoices", "payment_reference")
    op.drop_column("invoices", "payment_method")
