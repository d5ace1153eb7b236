"""The change feed (an outbox written in each command's transaction) and webhook delivery.

`event_counters` hands out each tenant's feed positions under a row lock that the writing
transaction holds until it commits, so positions are taken in commit order and a reader that
walks `position > cursor` can never skip a row that commits later with a smaller position
(docs/events.md, "Ordering"). `events.data` is `json`, not `jsonb`: it keeps the exact bytes
the API answered, key order included. Every table is tenant-owned, under forced row-level security;
the app role gets DML through the owner's default privileges, like every other table.
"""

from alembic import op

from infrastructure.migrations.rls import disable_tenant_isolation, enable_tenant_isolation

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TENANT_TABLES = ("event_counters", "events", "webhook_endpoints", "webhook_deliveries")

_CREATE = """
create table event_counters (
    tenant_id uuid primary key references tenants (id),
    last_position bigint not null,
    purged_through bigint not null default 0
);
create table events (
    tenant_id uuid not null references tenants (id),
    position bigint not null,
    id uuid not null default gen_random_uuid(),
    type text not null,
    occurred_at timestamptz not null default now(),
    data json not null,
    constraint pk_events primary key (tenant_id, position),
    constraint uq_events_id unique (id)
);
create index ix_events_occurred_at on events (occurred_at);
create table webhook_endpoints (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    url text not null,
    description text,
    event_types text[] not null default '{}',
    secret bytea not null,
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    disabled_at timestamptz,
    delivered_through bigint not null,
    failures integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    lease_until timestamptz,
    lease_owner text
);
create index ix_webhook_endpoints_tenant_id on webhook_endpoints (tenant_id, created_at, id);
create table webhook_deliveries (
    id uuid primary key default gen_random_uuid(),
    tenant_id uuid not null references tenants (id),
    endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
    event_id uuid not null,
    event_position bigint not null,
    event_type text not null,
    attempt integer not null,
    outcome text not null,
    status_code integer,
    duration_ms integer,
    error text,
    next_retry_at timestamptz,
    created_at timestamptz not null default now(),
    constraint ck_webhook_deliveries_outcome check (outcome in ('succeeded', 'failed', 'pending'))
);
create index ix_webhook_deliveries_endpoint
    on webhook_deliveries (tenant_id, endpoint_id, created_at desc, id desc);
create index ix_webhook_deliveries_pending
    on webhook_deliveries (tenant_id, endpoint_id) where outcome = 'pending';
"""


def upgrade() -> None:
    op.execute(_CREATE)
    for table in TENANT_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        disable_tenant_isolation(table)
        op.execute(f"drop table {table}")
