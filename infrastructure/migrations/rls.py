"""Row-level security helpers shared by migrations.

The policy reads the tenant from a transaction-local setting. `(select ...)` makes PostgreSQL
evaluate it once per statement (an InitPlan), not once per row; `nullif(..., '')` makes an unset
or empty setting compare to NULL, so a connection without a tenant sees and writes nothing.
"""

from __future__ import annotations

from alembic import context, op

TENANT_PREDICATE = "tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)"


def app_role() -> str:
    return str(context.config.attributes.get("app_role", "sales_app"))


def enable_tenant_isolation(table: str) -> None:
    op.execute(f"alter table {table} enable row level security")
    op.execute(f"alter table {table} force row level security")
    op.execute(
        f"create policy tenant_isolation on {table} "
        f"using ({TENANT_PREDICATE}) with check ({TENANT_PREDICATE})"
    )


def disable_tenant_isolation(table: str) -> None:
    op.execute(f"drop policy if exists tenant_isolation on {table}")
    op.execute(f"alter table {table} no force row level security")
    op.execute(f"alter table {table} disable row level security")
