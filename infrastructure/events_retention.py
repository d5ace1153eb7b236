"""Retention of the change feed: events older than EVENT_RETENTION_DAYS are deleted by an
operator job (`python -m app.cli purge-events`), with the deliveries log of the same age.

Only a prefix of each tenant's feed is ever deleted: everything before the first event that
is still young. `occurred_at` is when its transaction began, which does not follow commit
order, so deleting by age alone could leave a hole a cursor would then walk over unnoticed.
The counter row remembers how far the purge went (`purged_through`): a cursor before that
answers 410 cursor-expired instead of silently skipping what was deleted.
"""

from __future__ import annotations

from infrastructure.db.owner import total_in_each_tenant

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
    return total_in_each_tenant(owner_url, _PURGE, {"seconds": retention_days * 86400})
