"""Invoices: read them, pay them."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from domain.errors import found
from domain.model.orders import Invoice, Payment, Transition, paying
from domain.ports import Clock, IdempotencyClaim, InvoiceFilter, InvoiceReader, UnitOfWorkFactory
from domain.services.catalog import Catalog

NO_DETAILS = Payment()


class InvoiceService(Catalog[Invoice, InvoiceFilter]):
    def __init__(self, reader: InvoiceReader, uow: UnitOfWorkFactory, clock: Clock) -> None:
        super().__init__(reader, "invoice")
        self._uow = uow
        self._clock = clock

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
            if paying(invoice, payment) is Transition.APPLIES:
                now = self._clock.now()
                await uow.invoices.mark_paid(invoice.id, now, payment)
                invoice = replace(
                    invoice,
                    status="paid",
                    paid_at=now,
                    payment_method=payment.method,
                    payment_reference=payment.reference,
                )
                uow.events.record("invoice.paid", invoice)
            await uow.commit(invoice)
        return invoice
