"""Each command says what happened, in the unit of work it commits; a refusal says nothing."""

from __future__ import annotations

import pytest

from domain.errors import InsufficientStock, InvalidInput
from domain.model.events import EVENT_TYPES, FeedPage, decode_cursor, encode_cursor
from tests.unit.shop import Shop


@pytest.fixture
def shop() -> Shop:
    return Shop()


def committed(shop: Shop) -> list[tuple[str, object]]:
    return [event for uow in shop.uows.opened for event in uow.events_committed]


async def test_placing_an_order_records_the_order_then_its_invoice(shop: Shop) -> None:
    order = await shop.place(shop.customer(), (shop.product(stock=3), 2))
    assert committed(shop) == [("order.placed", order), ("invoice.issued", order.invoice)]


async def test_cancelling_records_the_cancelled_order_and_a_repeat_records_nothing_more(
    shop: Shop,
) -> None:
    order = await shop.place(shop.customer(), (shop.product(stock=3), 1))
    cancelled = await shop.orders.cancel(shop.tenant_id, order.id)
    await shop.orders.cancel(shop.tenant_id, order.id)
    assert committed(shop)[2:] == [("order.cancelled", cancelled)]


async def test_paying_records_the_paid_invoice_once(shop: Shop) -> None:
    order = await shop.place(shop.customer(), (shop.product(stock=3), 1))
    assert order.invoice is not None
    paid = await shop.invoices.pay(shop.tenant_id, order.invoice.id)
    await shop.invoices.pay(shop.tenant_id, order.invoice.id)
    assert committed(shop)[2:] == [("invoice.paid", paid)]


async def test_a_refused_stock_adjustment_records_nothing(shop: Shop) -> None:
    product = shop.product(stock=1)
    with pytest.raises(InsufficientStock):
        await shop.products.adjust_stock(shop.admin, product.id, -5, None)
    adjustment = await shop.products.adjust_stock(shop.admin, product.id, 2, "found two")
    assert committed(shop) == [("product.stock_adjusted", adjustment)]


def test_a_cursor_round_trips_and_a_forged_one_is_refused() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    with pytest.raises(InvalidInput):
        decode_cursor("bm90LWEtY3Vyc29y")
    assert "webhook_endpoint.disabled" in EVENT_TYPES
    assert FeedPage([], encode_cursor(0)).next == encode_cursor(0)
