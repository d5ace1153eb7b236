"""Retention of the change feed: events older than EVENT_RETENTION_DAYS are deleted by an
operator job (`python -m app.cli purge-events`), with the deliveries log of the same age.

Only a prefix of each tenant's feed is ever deleted: everything before the first event that
is still young. `occurred_at` is when its transaction began, which does not follow commit
order, so deleting by age alone could leave a hole a cursor would then walk over unnoticed.
The counter row remembers how far the purge went (`purged_through`): a cursor before that
answers 410 cursor-expired instead of silently skipping what was deleted.
"""

from __future__ import annotations

import psycopg2

from infrastructure.db.owner import act_as_tenant

_PURGE = """
with keep_from as (
  select coalesce(
    (select min(position) from events
      where tenant_id = %(tenant_id)s
        and occurred_at >= now() - %(seconds)s * interval '1 second'),
    (select last_position + 1 from event_counters where tenant_id = %(tenant_id)s)) as position),
gone as (
  delete from events e using keep_from k
  where e.tenant_id = %(tenant_id)s and e.position < k.position returning 1),
old_log as (
  delete from webhook_deliveries
  where tenant_id = %(tenant_id)s and outcome <> 'pending'
    and created_at < now() - %(seconds)s * interval '1 second'),
moved as (
  update event_counters c set purged_through = greatest(c.purged_through, k.position - 1)
  from keep_from k where c.tenant_id = %(tenant_id)s and k.position is not null)
select count(*) from gone
"""


def purge_old_events(owner_url: str, retention_days: float) -> int:
    """Delete every tenant's events past retention; returns how many were deleted."""
    conn = psycopg2.connect(owner_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select id from tenants")
            tenant_ids = [str(row[0]) for row in cur.fetchall()]
        removed = 0
        for tenant_id in tenant_ids:
            with conn, conn.cursor() as cur:  # one short transaction per tenant
                act_as_tenant(cur, tenant_id)
                cur.execute(_PURGE, {"tenant_id": tenant_id, "seconds": retention_days * 86400})
                row = cur.fetchone()
                removed += row[0] if row else 0
        return removed
    finally:
        conn.close()
