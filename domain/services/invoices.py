"""Invoices: read them, pay them."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.errors import found
from domain.model.orders import Invoice, Payment, ensure_payable
from domain.model.paging import Page, PageRequest
from domain.ports import Clock, IdempotencyClaim, InvoiceFilter, InvoiceReader, UnitOfWorkFactory

NO_DETAILS = Payment()


class InvoiceService:
    def __init__(self, reader: InvoiceReader, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._reader = reader
        self._uow = uow
        self._clock = clock

    async def list(self, tenant_id: UUID, page: PageRequest, where: InvoiceFilter) -> Page[Invoice]:
        return await self._reader.list(tenant_id, page, where)

    async def get(self, tenant_id: UUID, invoice_id: UUID) -> Invoice:
        return found(await self._reader.get(tenant_id, invoice_id), "invoice")

    async def pay(
        self,
        tenant_id: UUID,
        invoice_id: UUID,
        payment: Payment = NO_DETAILS,
        idempotency: IdempotencyClaim | None = None,
    ) -> Invoice:
        """Mark the invoice paid with what the payer says about it. The same payment again
        changes nothing and answers the recorded one; another payment for a paid invoice is
        AlreadyPaid (409), never silently dropped."""
        async with self._uow(tenant_id, idempotency) as uow:
            invoice = found(await uow.invoices.lock(invoice_id), "invoice")
            if ensure_payable(invoice, payment):
                now = self._clock.now()
                await uow.invoices.mark_paid(invoice.id, now, payment)
                invoice = replace(
                    invoice,
                    status="paid",
                    paid_at=now,
                    payment_method=payment.method,
                    payment_reference=payment.reference,
                )
            await uow.commit(invoice)
        return invoice
