"""Row-level security helpers shared by migrations.

The policy's predicate (and the setting it reads) come from infrastructure/db/tenancy.py, the
one module that knows how a session is put under a tenant.
"""

from __future__ import annotations

from alembic import context, op

from infrastructure.db.tenancy import TENANT_PREDICATE


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
