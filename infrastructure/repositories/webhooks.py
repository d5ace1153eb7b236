"""Webhook endpoints and their deliveries log: tenant-filtered reads and the UnitOfWork's writes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.model.paging import Page, PageRequest
from domain.model.webhooks import (
    EndpointChanges,
    NewWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
)
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import Sql, raw
from infrastructure.db.writes import TenantWrites
from infrastructure.repositories.paging import page_params, to_page

ENDPOINT_COLUMNS = "id, url, description, event_types, enabled, created_at, updated_at, disabled_at"
DELIVERY_COLUMNS = (
    "id, event_id, event_type, attempt, outcome, status_code, duration_ms, error,"
    " next_retry_at, created_at"
)
_KEYSET = " and (created_at, id) < (%(after_created)s, %(after_id)s)"


def _endpoint_page(keyset: bool) -> Sql:
    return raw(
        f"select {ENDPOINT_COLUMNS} from webhook_endpoints where tenant_id = %(tenant_id)s"
        + (_KEYSET if keyset else "")
        + " order by created_at desc, id desc limit %(limit)s"
    )


def _delivery_page(keyset: bool) -> Sql:
    # One read answers both "is there such an endpoint" and its page of deliveries.
    return raw(
        "select f.found, d.* from (select exists (select 1 from webhook_endpoints"
        " where tenant_id = %(tenant_id)s and id = %(endpoint_id)s) as found) f"
        f" left join lateral (select {DELIVERY_COLUMNS} from webhook_deliveries"
        " where tenant_id = %(tenant_id)s and endpoint_id = %(endpoint_id)s"
        + (_KEYSET if keyset else "")
        + " order by created_at desc, id desc limit %(limit)s) d on true"
        " order by d.created_at desc, d.id desc"
    )


_ENDPOINT_PAGES = {k: _endpoint_page(k) for k in (False, True)}
_DELIVERY_PAGES = {k: _delivery_page(k) for k in (False, True)}
_GET = raw(
    f"select {ENDPOINT_COLUMNS} from webhook_endpoints"
    " where tenant_id = %(tenant_id)s and id = %(id)s"
)


def endpoint_of(row: Any) -> WebhookEndpoint:
    ident, url, description, types, enabled, created, updated, disabled = row[:8]
    return WebhookEndpoint(
        ident, url, description, list(types), enabled, created, updated, disabled
    )


def delivery_of(row: Any) -> WebhookDelivery:
    return WebhookDelivery(*row)


class WebhookReadRepository:
    def __init__(self, reads: TenantReads) -> None:
        self._reads = reads

    async def list(self, tenant_id: UUID, page: PageRequest) -> Page[WebhookEndpoint]:
        stmt = _ENDPOINT_PAGES[page.after is not None]
        rows = await self._reads.fetch_all(tenant_id, stmt, page_params(page))
        return to_page(rows, page, endpoint_of, lambda e: (e.created_at, e.id))

    async def get(self, tenant_id: UUID, endpoint_id: UUID) -> WebhookEndpoint | None:
        row = await self._reads.fetch_one(tenant_id, _GET, {"id": endpoint_id})
        return endpoint_of(row) if row else None

    async def deliveries(
        self, tenant_id: UUID, endpoint_id: UUID, page: PageRequest
    ) -> Page[WebhookDelivery] | None:
        params = page_params(page) | {"endpoint_id": endpoint_id}
        rows = await self._reads.fetch_all(
            tenant_id, _DELIVERY_PAGES[page.after is not None], params
        )
        if not rows or not rows[0][0]:
            return None
        found = [row[1:] for row in rows if row[1] is not None]
        return to_page(found, page, delivery_of, lambda d: (d.created_at, d.id))


_INSERT = raw(
    "insert into webhook_endpoints"
    " (id, tenant_id, url, description, event_types, secret, delivered_through)"
    " values (%(id)s, %(tenant_id)s, %(url)s, %(description)s, %(event_types)s::text[],"
    " %(secret)s, coalesce((select last_position from event_counters"
    " where tenant_id = %(tenant_id)s), 0))"
    f" returning {ENDPOINT_COLUMNS}"
)
# Re-enabling starts over: failures forgotten, the next attempt due now.
_UPDATE = raw(
    "update webhook_endpoints set"
    " url = coalesce(%(url)s, url),"
    " description = case when %(set_description)s then %(description)s else description end,"
    " event_types = coalesce(%(event_types)s::text[], event_types),"
    " failures = case when %(enabled)s is true and not enabled then 0 else failures end,"
    " next_attempt_at = case when %(enabled)s is true and not enabled then now()"
    " else next_attempt_at end,"
    " disabled_at = case when %(enabled)s is true then null"
    " when %(enabled)s is false then coalesce(disabled_at, now()) else disabled_at end,"
    " enabled = coalesce(%(enabled)s, enabled),"
    " updated_at = now()"
    " where tenant_id = %(tenant_id)s and id = %(id)s"
    f" returning {ENDPOINT_COLUMNS}"
)
_DELETE = raw(
    "delete from webhook_endpoints where tenant_id = %(tenant_id)s and id = %(id)s returning id"
)
_RESEND = raw(
    "insert into webhook_deliveries"
    " (tenant_id, endpoint_id, event_id, event_position, event_type, attempt, outcome)"
    " select tenant_id, endpoint_id, event_id, event_position, event_type, 1, 'pending'"
    " from webhook_deliveries"
    " where tenant_id = %(tenant_id)s and endpoint_id = %(endpoint_id)s and id = %(id)s"
    f" returning {DELIVERY_COLUMNS}"
)


class WebhookWriteRepository:
    def __init__(self, writes: TenantWrites) -> None:
        self._writes = writes

    async def add(self, new: NewWebhookEndpoint) -> WebhookEndpoint:
        params = {
            "id": new.id,
            "url": new.url,
            "description": new.description,
            "event_types": list(new.event_types),
            "secret": new.sealed_secret,
        }
        return endpoint_of((await self._writes.execute(_INSERT, params))[0])

    async def update(self, endpoint_id: UUID, changes: EndpointChanges) -> WebhookEndpoint | None:
        params = {
            "id": endpoint_id,
            "url": changes.url,
            "set_description": changes.description is not None,
            "description": changes.description,
            "event_types": list(changes.event_types) if changes.event_types is not None else None,
            "enabled": changes.enabled,
        }
        rows = await self._writes.execute(_UPDATE, params)
        return endpoint_of(rows[0]) if rows else None

    async def delete(self, endpoint_id: UUID) -> bool:
        return bool(await self._writes.execute(_DELETE, {"id": endpoint_id}))

    async def queue_resend(self, endpoint_id: UUID, delivery_id: UUID) -> WebhookDelivery | None:
        rows = await self._writes.execute(_RESEND, {"endpoint_id": endpoint_id, "id": delivery_id})
        return delivery_of(rows[0]) if rows else None
