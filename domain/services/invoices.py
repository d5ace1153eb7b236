"""Invoices: read them, pay them."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.errors import found
from domain.model.orders import Invoice, InvoiceStatus, ensure_payable
from domain.model.paging import Page, PageRequest
from domain.ports import Clock, IdempotencyClaim, InvoiceReader, UnitOfWorkFactory


class InvoiceService:
    def __init__(self, reader: InvoiceReader, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._reader = reader
        self._uow = uow
        self._clock = clock

    async def list(
        self, tenant_id: UUID, page: PageRequest, status: InvoiceStatus | None
    ) -> Page[Invoice]:
        return await self._reader.list(tenant_id, page, status)

    async def get(self, tenant_id: UUID, invoice_id: UUID) -> Invoice:
        return found(await self._reader.get(tenant_id, invoice_id), "invoice")

    async def pay(
        self, tenant_id: UUID, invoice_id: UUID, idempotency: IdempotencyClaim | None = None
    ) -> Invoice:
        async with self._uow(tenant_id, idempotency) as uow:
            invoice = found(await uow.invoices.lock(invoice_id), "invoice")
            if ensure_payable(invoice):
                now = self._clock.now()
                await uow.invoices.set_status(invoice.id, "paid", now)
                invoice = replace(invoice, status="paid", paid_at=now)
            await uow.commit(invoice)
        return invoice
