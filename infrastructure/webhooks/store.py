"""The deliverer's statements: claim endpoints, read what to send, record each attempt.

Every statement runs as one tenant under row-level security: a short UnitOfWork (claim,
record) or a one-trip tenant read (the batch), never across an HTTP call. An endpoint is
claimed with a lease (`lease_owner`, `lease_until`) picked with FOR UPDATE SKIP LOCKED, so two
deliverers never serve one endpoint at once, and one that dies (SIGKILL) leaves a lease that
simply runs out; records check the lease is still theirs, and those of an attempt renew it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from infrastructure.db.sql import raw
from infrastructure.repositories.webhooks import ENDPOINT_COLUMNS

CLAIM = raw(
    "update webhook_endpoints w set lease_owner = %(owner)s,"
    " lease_until = now() + make_interval(secs => %(lease)s)"
    " where w.id in (select c.id from webhook_endpoints c"
    " where c.tenant_id = %(tenant_id)s and c.enabled and c.next_attempt_at <= now()"
    " and (c.lease_until is null or c.lease_until < now())"
    " and c.id <> all(%(busy)s::uuid[])"
    " and (c.delivered_through < coalesce((select k.last_position from event_counters k"
    " where k.tenant_id = %(tenant_id)s), 0)"
    " or exists (select 1 from webhook_deliveries p where p.tenant_id = %(tenant_id)s"
    " and p.endpoint_id = c.id and p.outcome = 'pending'))"
    " order by c.next_attempt_at limit %(n)s for update skip locked)"
    " returning w.id, w.url, w.secret, w.event_types, w.delivered_through, w.failures"
)

# Queued resends first (an admin asked), then the feed after the endpoint's position, of the
# types it wants; and the newest committed position, to skip what the filter leaves out.
BATCH = raw(
    "select 0 as kind, p.id, p.attempt, e.position, e.id, e.type, e.occurred_at, e.data::text"
    " from webhook_deliveries p join events e"
    " on e.tenant_id = p.tenant_id and e.id = p.event_id"
    " where p.tenant_id = %(tenant_id)s and p.endpoint_id = %(endpoint_id)s"
    " and p.outcome = 'pending'"
    " union all (select 1, null, null, e.position, e.id, e.type, e.occurred_at, e.data::text"
    " from events e where e.tenant_id = %(tenant_id)s and e.position > %(after)s"
    " and (cardinality(%(types)s::text[]) = 0 or e.type = any(%(types)s::text[]))"
    " order by e.position limit %(limit)s)"
    " union all select 2, null, null, coalesce((select last_position from event_counters"
    " where tenant_id = %(tenant_id)s), 0), null, null, null, null"
    " order by 1, 4"
)

SUCCEEDED = raw(
    "with mine as (update webhook_endpoints set delivered_through = %(position)s, failures = 0,"
    " lease_until = now() + make_interval(secs => %(lease)s)"
    " where tenant_id = %(tenant_id)s and id = %(endpoint_id)s and lease_owner = %(owner)s"
    " returning id)"
    " insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_position,"
    " event_type, attempt, outcome, status_code, duration_ms)"
    " select %(tenant_id)s, id, %(event_id)s, %(position)s, %(event_type)s, %(attempt)s,"
    " 'succeeded', %(status_code)s, %(duration_ms)s from mine returning 1"
)

# The failure moves the endpoint's next attempt out and gives its lease back; past the end of
# the schedule it disables the endpoint. Returns the endpoint as the API shows it.
FAILED = raw(
    "update webhook_endpoints set failures = failures + 1,"
    " next_attempt_at = now() + make_interval(secs => %(delay)s),"
    " lease_until = null, lease_owner = null,"
    " enabled = enabled and not %(give_up)s,"
    " disabled_at = case when %(give_up)s then now() else disabled_at end,"
    " updated_at = case when %(give_up)s then now() else updated_at end"
    " where tenant_id = %(tenant_id)s and id = %(endpoint_id)s and lease_owner = %(owner)s"
    f" returning {ENDPOINT_COLUMNS}"
)
FAILED_LOG = raw(
    "insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_position,"
    " event_type, attempt, outcome, status_code, duration_ms, error, next_retry_at)"
    " values (%(tenant_id)s, %(endpoint_id)s, %(event_id)s, %(position)s, %(event_type)s,"
    " %(attempt)s, 'failed', %(status_code)s, %(duration_ms)s, %(error)s,"
    " case when %(give_up)s then null else now() + make_interval(secs => %(delay)s) end)"
)

# A resend is one attempt: its row says how it went. Like a success, it renews the lease.
RESENT = raw(
    "with mine as (update webhook_endpoints"
    " set lease_until = now() + make_interval(secs => %(lease)s)"
    " where tenant_id = %(tenant_id)s and id = %(endpoint_id)s and lease_owner = %(owner)s"
    " returning id)"
    " update webhook_deliveries d set outcome = %(outcome)s, status_code = %(status_code)s,"
    " duration_ms = %(duration_ms)s, error = %(error)s"
    " from mine where d.tenant_id = %(tenant_id)s and d.id = %(delivery_id)s"
    " and d.endpoint_id = mine.id"
    " returning 1"
)

# Before a call when the last renewal is not recent (the batch read was slow, say).
RENEW = raw(
    "update webhook_endpoints set lease_until = now() + make_interval(secs => %(lease)s)"
    " where tenant_id = %(tenant_id)s and id = %(endpoint_id)s and lease_owner = %(owner)s"
    " returning 1"
)

SKIP_TO = raw(
    "update webhook_endpoints set delivered_through = greatest(delivered_through, %(position)s)"
    " where tenant_id = %(tenant_id)s and id = %(endpoint_id)s and lease_owner = %(owner)s"
)

RELEASE = raw(
    "update webhook_endpoints set lease_until = null, lease_owner = null"
    " where tenant_id = %(tenant_id)s and id = %(endpoint_id)s and lease_owner = %(owner)s"
)

# The same, for an endpoint this round could not serve at all: it waits a minute before it
# is claimed again (infrastructure/webhooks/deliverer.py, `_serve`).
RELEASE_LATER = raw(
    "update webhook_endpoints set lease_until = null, lease_owner = null,"
    " next_attempt_at = greatest(next_attempt_at, now() + interval '60 seconds')"
    " where tenant_id = %(tenant_id)s and id = %(endpoint_id)s and lease_owner = %(owner)s"
)

# Per tenant, for the scan and the gauges: enabled endpoints, those waiting to retry, and the age of the oldest event an
# enabled endpoint has not been sent yet.
BACKLOG = raw(
    "select count(*), count(*) filter (where w.failures > 0),"
    " extract(epoch from now() - min(e.occurred_at))"
    " from webhook_endpoints w left join lateral (select occurred_at from events e"
    " where e.tenant_id = w.tenant_id and e.position > w.delivered_through"
    " order by e.position limit 1) e on true"
    " where w.tenant_id = %(tenant_id)s and w.enabled"
)


@dataclass(frozen=True, slots=True)
class Claimed:
    tenant_id: UUID
    id: UUID
    url: str
    sealed_secret: bytes
    event_types: list[str]
    delivered_through: int
    failures: int


@dataclass(frozen=True, slots=True)
class Item:
    """One thing to send: a feed event, or a queued resend of one (`resend_id`)."""

    position: int
    event_id: UUID
    event_type: str
    occurred_at: datetime
    data_json: str
    resend_id: UUID | None = None
