"""Webhook endpoints (admins only): create with a secret shown once, list, change, delete,
read the deliveries log, resend one delivery."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.errors import NotFound, found, require_changes
from domain.model.events import check_types
from domain.model.identity import Principal
from domain.model.paging import Page, PageRequest
from domain.model.webhooks import (
    CreatedWebhook,
    EndpointChanges,
    NewWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
    check_url_shape,
    new_secret,
)
from domain.ports import SecretSealer, UnitOfWorkFactory, UrlGuard, WebhookReader
from domain.services.auth import require_admin


def sealing_context(tenant_id: UUID, endpoint_id: UUID) -> str:
    """What a sealed secret is bound to: it opens only for its own endpoint's row."""
    return f"{tenant_id}:{endpoint_id}"


class WebhookService:
    def __init__(
        self,
        reader: WebhookReader,
        uow: UnitOfWorkFactory,
        guard: UrlGuard,
        sealer: SecretSealer,
    ) -> None:
        self._reader = reader
        self._uow = uow
        self._guard = guard
        self._sealer = sealer

    async def create(
        self,
        principal: Principal,
        url: str,
        event_types: tuple[str, ...] = (),
        description: str | None = None,
    ) -> CreatedWebhook:
        require_admin(principal)
        await self._check(url)  # DNS, before any connection is taken
        endpoint_id, secret = uuid4(), new_secret()
        sealed = self._sealer.seal(secret, sealing_context(principal.tenant_id, endpoint_id))
        new = NewWebhookEndpoint(endpoint_id, url, description, check_types(event_types), sealed)
        async with self._uow(principal.tenant_id) as uow:
            endpoint = await uow.webhooks.add(new)
            await uow.commit()
        return CreatedWebhook(endpoint, secret)

    async def list(self, principal: Principal, page: PageRequest) -> Page[WebhookEndpoint]:
        require_admin(principal)
        return await self._reader.list(principal.tenant_id, page)

    async def get(self, principal: Principal, endpoint_id: UUID) -> WebhookEndpoint:
        require_admin(principal)
        return found(await self._reader.get(principal.tenant_id, endpoint_id), "webhook endpoint")

    async def update(
        self, principal: Principal, endpoint_id: UUID, changes: EndpointChanges
    ) -> WebhookEndpoint:
        require_admin(principal)
        require_changes(changes)
        if changes.url is not None:
            await self._check(changes.url)
        if changes.event_types is not None:
            check_types(changes.event_types)
        async with self._uow(principal.tenant_id) as uow:
            endpoint = found(await uow.webhooks.update(endpoint_id, changes), "webhook endpoint")
            await uow.commit(endpoint)
        return endpoint

    async def delete(self, principal: Principal, endpoint_id: UUID) -> None:
        require_admin(principal)
        async with self._uow(principal.tenant_id) as uow:
            if not await uow.webhooks.delete(endpoint_id):
                raise NotFound("webhook endpoint not found")
            await uow.commit()

    async def deliveries(
        self, principal: Principal, endpoint_id: UUID, page: PageRequest
    ) -> Page[WebhookDelivery]:
        require_admin(principal)
        return found(
            await self._reader.deliveries(principal.tenant_id, endpoint_id, page),
            "webhook endpoint",
        )

    async def resend(
        self, principal: Principal, endpoint_id: UUID, delivery_id: UUID
    ) -> WebhookDelivery:
        require_admin(principal)
        async with self._uow(principal.tenant_id) as uow:
            queued = found(await uow.webhooks.queue_resend(endpoint_id, delivery_id), "delivery")
            await uow.commit(queued)
        return queued

    async def _check(self, url: str) -> None:
        await self._guard.check(check_url_shape(url))
