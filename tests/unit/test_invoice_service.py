"""InvoiceService on in-memory fakes: paying an invoice, and reading them."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.errors import AlreadyPaid, InvalidTransition, NotFound
from domain.model.orders import Invoice, Payment
from domain.model.paging import PageRequest
from domain.ports import IdempotencyClaim, InvoiceFilter
from tests.unit.shop import Shop


async def open_invoice(shop: Shop) -> Invoice:
    order = await shop.place(shop.customer(), (shop.product(), 1))
    assert order.invoice is not None
    return order.invoice


# ---- pay -------------------------------------------------------------------------------------


async def test_pay_marks_an_open_invoice_paid_now_and_commits(shop: Shop) -> None:
    invoice = await open_invoice(shop)
    shop.clock.advance(timedelta(days=3))

    paid = await shop.invoices.pay(shop.tenant_id, invoice.id)

    assert (paid.status, paid.paid_at, paid.voided_at) == ("paid", shop.clock.now(), None)
    assert (paid.number, paid.amount) == (invoice.number, invoice.amount)
    assert await shop.invoices.get(shop.tenant_id, invoice.id) == paid
    assert shop.uows.opened[-1].results == [paid]


async def test_paying_again_returns_the_first_payment_and_changes_nothing(shop: Shop) -> None:
    invoice = await open_invoice(shop)
    first = await shop.invoices.pay(shop.tenant_id, invoice.id)
    after_first = shop.store.copy()
    shop.clock.advance(timedelta(hours=1))

    again = await shop.invoices.pay(shop.tenant_id, invoice.id)

    assert again == first  # paid_at is the first payment's, not the repeat's
    assert shop.store == after_first


async def test_paying_the_void_invoice_of_a_cancelled_order_is_an_invalid_transition(
    shop: Shop,
) -> None:
    invoice = await open_invoice(shop)
    await shop.orders.cancel(shop.tenant_id, invoice.order_id)
    before = shop.store.copy()

    with pytest.raises(InvalidTransition):
        await shop.invoices.pay(shop.tenant_id, invoice.id)

    assert shop.store == before
    assert (await shop.invoices.get(shop.tenant_id, invoice.id)).status == "void"


async def test_paying_a_missing_invoice_raises_not_found_and_commits_nothing(shop: Shop) -> None:
    await open_invoice(shop)
    commits = shop.uows.commits

    with pytest.raises(NotFound):
        await shop.invoices.pay(shop.tenant_id, uuid4())

    assert shop.uows.commits == commits


async def test_paying_another_tenants_invoice_raises_not_found_and_leaves_it_open(
    shop: Shop,
) -> None:
    invoice = await open_invoice(shop)

    with pytest.raises(NotFound):
        await shop.invoices.pay(uuid4(), invoice.id)

    assert (await shop.invoices.get(shop.tenant_id, invoice.id)).status == "open"


async def test_pay_hands_the_idempotency_claim_to_the_unit_of_work_that_commits_it(
    shop: Shop,
) -> None:
    invoice = await open_invoice(shop)
    claim = IdempotencyClaim("key-1", b"fingerprint", "POST /invoices/pay", 200)

    paid = await shop.invoices.pay(shop.tenant_id, invoice.id, idempotency=claim)

    assert (shop.uows.opened[-1].idempotency, shop.uows.opened[-1].results) == (claim, [paid])


# ---- get and list ----------------------------------------------------------------------------


async def test_get_of_a_missing_invoice_raises_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        await shop.invoices.get(shop.tenant_id, uuid4())


async def test_get_of_another_tenants_invoice_raises_not_found(shop: Shop) -> None:
    invoice = await open_invoice(shop)
    with pytest.raises(NotFound):
        await shop.invoices.get(uuid4(), invoice.id)


async def test_list_filters_by_status_newest_first(shop: Shop) -> None:
    first = await open_invoice(shop)
    shop.clock.advance(timedelta(minutes=1))
    second = await open_invoice(shop)
    shop.clock.advance(timedelta(minutes=1))
    third = await open_invoice(shop)
    paid = await shop.invoices.pay(shop.tenant_id, second.id)

    everything = await shop.invoices.list(shop.tenant_id, PageRequest(), InvoiceFilter())
    still_open = await shop.invoices.list(
        shop.tenant_id, PageRequest(), InvoiceFilter(status="open")
    )

    assert [i.number for i in everything.items] == ["INV-000003", "INV-000002", "INV-000001"]
    assert everything.items[1] == paid
    assert still_open.items == [third, first]


async def test_another_payment_for_a_paid_invoice_is_already_paid_and_changes_nothing(
    shop: Shop,
) -> None:
    invoice = await open_invoice(shop)
    await shop.invoices.pay(shop.tenant_id, invoice.id, Payment("card", "R-1"))
    after_first = shop.store.copy()

    with pytest.raises(AlreadyPaid) as refused:
        await shop.invoices.pay(shop.tenant_id, invoice.id, Payment("wire", "R-2"))

    assert (refused.value.recorded["method"], refused.value.recorded["reference"]) == (
        "card",
        "R-1",
    )
    assert shop.store == after_first
