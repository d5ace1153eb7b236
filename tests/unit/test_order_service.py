"""OrderService on in-memory fakes: what placing and cancelling commit, and what they refuse."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from domain.errors import (
    InsufficientStock,
    InvalidInput,
    InvalidTransition,
    NotFound,
    UnknownReferences,
)
from domain.model.orders import Invoice, LineRequest, Order, OrderPlan, PlaceOrder
from domain.model.paging import Keyset, PageRequest
from domain.model.products import Movement, Product
from domain.ports import IdempotencyClaim, OrderFilter, OrderWriter
from domain.services.orders import OrderService
from tests.unit.fakes import (
    FakeOrderReader,
    FakeProductWriter,
    FakeUnitOfWork,
    FakeUnitOfWorkFactory,
)
from tests.unit.shop import Shop


def invoiced(order: Order) -> Invoice:
    """The order's invoice, which every order placed here has."""
    assert order.invoice is not None
    return order.invoice


async def paid_order(shop: Shop) -> tuple[Product, Order]:
    """A product with stock 10, and an order for 2 of it whose invoice is paid."""
    widget = shop.product(stock=10)
    placed = await shop.place(shop.customer(), (widget, 2))
    await shop.invoices.pay(shop.tenant_id, invoiced(placed).id)
    return widget, placed


# ---- place -----------------------------------------------------------------------------------


async def test_place_takes_stock_and_writes_order_lines_movements_and_invoice_in_one_commit(
    shop: Shop,
) -> None:
    customer = shop.customer()
    pen, ink = shop.product(stock=10, unit_price="1.25"), shop.product(stock=5, unit_price="19.99")

    order = await shop.place(customer, (pen, 4), (ink, 2))

    assert (shop.stock_of(pen), shop.stock_of(ink)) == (6, 3)
    assert [(ln.product_id, ln.quantity, ln.line_total) for ln in order.lines] == [
        (pen.id, 4, Decimal("5.00")),
        (ink.id, 2, Decimal("39.98")),
    ]
    assert (order.status, order.total, order.currency, order.note) == (
        "placed",
        Decimal("44.98"),
        "EUR",
        "by phone",
    )
    assert shop.store.movements_of(shop.tenant_id) == [
        Movement(pen.id, -4, "order", order_id=order.id),
        Movement(ink.id, -2, "order", order_id=order.id),
    ]
    assert shop.uows.commits == 1
    assert shop.uows.opened[0].results == [order]
    assert await shop.orders.get(shop.tenant_id, order.id) == order


async def test_place_issues_an_open_invoice_for_the_order_total(shop: Shop) -> None:
    order = await shop.place(shop.customer(), (shop.product(unit_price="3.10"), 3))

    invoice = order.invoice
    assert invoice is not None
    assert (invoice.order_id, invoice.number, invoice.amount, invoice.status) == (
        order.id,
        "INV-000001",
        Decimal("9.30"),
        "open",
    )
    assert await shop.invoices.get(shop.tenant_id, invoice.id) == invoice


async def test_an_order_is_billed_in_its_tenants_currency(shop: Shop) -> None:
    shop.store.currencies[shop.tenant_id] = "GBP"

    order = await shop.place(shop.customer(), (shop.product(), 1))

    assert order.currency == invoiced(order).currency == "GBP"


async def test_place_locks_the_products_in_id_order(shop: Shop) -> None:
    customer = shop.customer()
    products = [shop.product() for _ in range(4)]

    await shop.place(customer, *[(p, 1) for p in products])

    (uow,) = shop.uows.opened
    assert isinstance(uow.products, FakeProductWriter)
    assert uow.products.locks == [sorted(p.id for p in products)]


async def test_order_for_unknown_customer_writes_nothing(shop: Shop) -> None:
    widget = shop.product(stock=10)
    before = shop.store.copy()
    stranger = uuid4()

    with pytest.raises(UnknownReferences) as raised:
        await shop.orders.place(shop.tenant_id, PlaceOrder(stranger, (LineRequest(widget.id, 1),)))

    assert raised.value.missing == {"customer_id": [str(stranger)]}
    assert shop.uows.commits == 0 and shop.store == before


async def test_order_for_unknown_products_names_them_all_and_writes_nothing(shop: Shop) -> None:
    customer, widget = shop.customer(), shop.product()
    ghosts = [uuid4(), uuid4()]
    lines = (LineRequest(ghosts[0], 1), LineRequest(widget.id, 1), LineRequest(ghosts[1], 1))
    before = shop.store.copy()

    with pytest.raises(UnknownReferences) as raised:
        await shop.orders.place(shop.tenant_id, PlaceOrder(customer.id, lines))

    assert raised.value.missing == {"product_ids": [str(g) for g in ghosts]}
    assert shop.uows.commits == 0 and shop.store == before


async def test_order_for_another_tenants_product_writes_nothing(shop: Shop) -> None:
    theirs = Shop(store=shop.store, clock=shop.clock)
    their_product = theirs.product(stock=10)
    before = shop.store.copy()

    with pytest.raises(UnknownReferences) as raised:
        await shop.place(shop.customer(), (their_product, 1))

    assert raised.value.missing == {"product_ids": [str(their_product.id)]}
    assert shop.store.products == before.products and shop.uows.commits == 0


async def test_order_for_an_inactive_product_writes_nothing(shop: Shop) -> None:
    retired = shop.product(active=False)
    customer = shop.customer()
    before = shop.store.copy()

    with pytest.raises(UnknownReferences) as raised:
        await shop.place(customer, (retired, 1))

    assert raised.value.missing == {"inactive_product_ids": [str(retired.id)]}
    assert shop.uows.commits == 0 and shop.store == before


async def test_insufficient_stock_lists_every_shortage_and_commits_nothing(shop: Shop) -> None:
    customer = shop.customer()
    plenty, low, empty = shop.product(stock=50), shop.product(stock=2), shop.product(stock=0)
    before = shop.store.copy()

    with pytest.raises(InsufficientStock) as raised:
        await shop.place(customer, (plenty, 5), (low, 3), (empty, 1))

    assert raised.value.shortages == [
        {"product_id": str(low.id), "requested": 3, "available": 2},
        {"product_id": str(empty.id), "requested": 1, "available": 0},
    ]
    assert shop.uows.commits == 0 and shop.store == before


async def test_an_order_for_all_the_stock_leaves_zero_and_the_next_one_is_refused(
    shop: Shop,
) -> None:
    customer, last = shop.customer(), shop.product(stock=3)

    await shop.place(customer, (last, 3))
    with pytest.raises(InsufficientStock):
        await shop.place(customer, (last, 1))

    assert shop.stock_of(last) == 0 and shop.uows.commits == 1


async def test_an_order_without_lines_is_refused_before_a_unit_of_work_opens(shop: Shop) -> None:
    with pytest.raises(InvalidInput):
        await shop.orders.place(shop.tenant_id, PlaceOrder(shop.customer().id, ()))

    assert shop.uows.opened == []


async def test_an_order_naming_a_product_twice_is_refused_and_takes_no_stock(shop: Shop) -> None:
    widget = shop.product(stock=10)
    lines = (LineRequest(widget.id, 1), LineRequest(widget.id, 2))

    with pytest.raises(InvalidInput):
        await shop.orders.place(shop.tenant_id, PlaceOrder(shop.customer().id, lines))

    assert shop.uows.opened == [] and shop.stock_of(widget) == 10


async def test_invoice_numbers_stay_gapless_after_a_refused_order(shop: Shop) -> None:
    customer, widget = shop.customer(), shop.product(stock=2)

    first = await shop.place(customer, (widget, 1))
    with pytest.raises(InsufficientStock):
        await shop.place(customer, (widget, 5))
    second = await shop.place(customer, (widget, 1))

    assert [invoiced(first).number, invoiced(second).number] == ["INV-000001", "INV-000002"]


async def test_each_tenant_numbers_its_invoices_from_one(shop: Shop) -> None:
    other = Shop(store=shop.store, clock=shop.clock)
    await shop.place(shop.customer(), (shop.product(), 1))
    await shop.place(shop.customer(), (shop.product(), 1))

    theirs = await other.place(other.customer(), (other.product(), 1))

    assert invoiced(theirs).number == "INV-000001"


async def test_place_hands_the_idempotency_claim_to_the_unit_of_work_that_commits_the_order(
    shop: Shop,
) -> None:
    claim = IdempotencyClaim("key-1", b"fingerprint", "POST /orders", 201)
    command = PlaceOrder(shop.customer().id, (LineRequest(shop.product().id, 1),))

    order = await shop.orders.place(shop.tenant_id, command, claim)

    (uow,) = shop.uows.opened
    assert (uow.idempotency, uow.results) == (claim, [order])


# ---- cancel ----------------------------------------------------------------------------------


async def test_cancel_restocks_writes_cancel_movements_and_voids_the_invoice(shop: Shop) -> None:
    customer, pen, ink = shop.customer(), shop.product(stock=10), shop.product(stock=4)
    placed = await shop.place(customer, (pen, 3), (ink, 4))
    shop.clock.advance(timedelta(hours=1))

    cancelled = await shop.orders.cancel(shop.tenant_id, placed.id)

    now = shop.clock.now()
    assert (cancelled.status, cancelled.cancelled_at) == ("cancelled", now)
    assert (invoiced(cancelled).status, invoiced(cancelled).voided_at) == ("void", now)
    assert (shop.stock_of(pen), shop.stock_of(ink)) == (10, 4)
    cancels = {m for m in shop.store.movements_of(shop.tenant_id) if m.reason == "cancel"}
    assert cancels == {
        Movement(pen.id, 3, "cancel", order_id=placed.id),
        Movement(ink.id, 4, "cancel", order_id=placed.id),
    }
    assert await shop.orders.get(shop.tenant_id, placed.id) == cancelled
    assert shop.uows.opened[-1].results == [cancelled]


async def test_cancel_returns_the_quantity_on_top_of_the_stock_as_it_is_now(shop: Shop) -> None:
    customer, widget = shop.customer(), shop.product(stock=10)
    placed = await shop.place(customer, (widget, 3))
    await shop.products.adjust_stock(shop.admin, widget.id, 5, "delivery")

    await shop.orders.cancel(shop.tenant_id, placed.id)

    assert shop.stock_of(widget) == 15


async def test_repeating_a_cancel_returns_the_same_order_and_changes_nothing(shop: Shop) -> None:
    placed = await shop.place(shop.customer(), (shop.product(stock=10), 2))
    first = await shop.orders.cancel(shop.tenant_id, placed.id)
    after_first = shop.store.copy()
    shop.clock.advance(timedelta(minutes=5))

    again = await shop.orders.cancel(shop.tenant_id, placed.id)

    assert again == first
    assert shop.store == after_first
    assert shop.uows.opened[-1].results == [first]


async def test_cancel_of_a_paid_order_is_an_invalid_transition_and_changes_nothing(
    shop: Shop,
) -> None:
    widget, placed = await paid_order(shop)
    before = shop.store.copy()

    with pytest.raises(InvalidTransition):
        await shop.orders.cancel(shop.tenant_id, placed.id)

    assert shop.store == before and shop.stock_of(widget) == 8


class OrderSnapshotFromBeforeThePayment(OrderWriter):
    """orders.lock() as PostgreSQL answers it when a payment commits while cancel waits for the
    order's row lock: the invoice read in that same statement still shows it open."""

    def __init__(self, orders: OrderWriter) -> None:
        self._orders = orders

    async def add(self, plan: OrderPlan) -> Order:
        return await self._orders.add(plan)

    async def lock(self, order_id: UUID) -> Order | None:
        order = await self._orders.lock(order_id)
        assert order is not None and order.invoice is not None
        return replace(order, invoice=replace(order.invoice, status="open", paid_at=None))

    async def mark_cancelled(self, order_id: UUID, at: datetime, reason: str | None = None) -> None:
        await self._orders.mark_cancelled(order_id, at, reason)


class CancelRacingAPayment(FakeUnitOfWork):
    async def __aenter__(self) -> FakeUnitOfWork:
        await super().__aenter__()
        self.orders = OrderSnapshotFromBeforeThePayment(self.orders)
        return self


async def test_cancel_rereads_the_invoice_so_a_payment_committed_meanwhile_refuses_it(
    shop: Shop,
) -> None:
    widget, placed = await paid_order(shop)
    before = shop.store.copy()
    racing = FakeUnitOfWorkFactory(shop.store, shop.clock, unit_of_work=CancelRacingAPayment)
    orders = OrderService(FakeOrderReader(shop.store), racing, shop.clock)

    with pytest.raises(InvalidTransition):
        await orders.cancel(shop.tenant_id, placed.id)

    assert shop.store == before and shop.stock_of(widget) == 8


async def test_cancel_of_an_order_without_an_invoice_restocks_it(shop: Shop) -> None:
    widget = shop.product(stock=10)
    placed = await shop.place(shop.customer(), (widget, 2))
    # An order written before invoicing existed: it has no invoice row.
    shop.store.invoices.pop((shop.tenant_id, invoiced(placed).id))

    cancelled = await shop.orders.cancel(shop.tenant_id, placed.id)

    assert (cancelled.status, cancelled.invoice) == ("cancelled", None)
    assert shop.stock_of(widget) == 10


async def test_cancel_of_a_missing_order_raises_not_found_and_commits_nothing(shop: Shop) -> None:
    with pytest.raises(NotFound):
        await shop.orders.cancel(shop.tenant_id, uuid4())
    assert shop.uows.commits == 0


async def test_cancel_of_another_tenants_order_raises_not_found_and_leaves_it_placed(
    shop: Shop,
) -> None:
    widget = shop.product(stock=10)
    placed = await shop.place(shop.customer(), (widget, 2))

    with pytest.raises(NotFound):
        await shop.orders.cancel(uuid4(), placed.id)

    assert (await shop.orders.get(shop.tenant_id, placed.id)).status == "placed"
    assert shop.stock_of(widget) == 8


# ---- get and list ----------------------------------------------------------------------------


async def test_get_of_a_missing_order_raises_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        await shop.orders.get(shop.tenant_id, uuid4())


async def test_get_of_another_tenants_order_raises_not_found(shop: Shop) -> None:
    placed = await shop.place(shop.customer(), (shop.product(), 1))
    with pytest.raises(NotFound):
        await shop.orders.get(uuid4(), placed.id)


async def test_list_reads_the_tenants_orders_newest_first_through_the_filter(shop: Shop) -> None:
    customer, widget = shop.customer(), shop.product(stock=10)
    older = await shop.place(customer, (widget, 1))
    shop.clock.advance(timedelta(minutes=1))
    newer = await shop.place(customer, (widget, 1))
    shop.clock.advance(timedelta(minutes=1))
    cancelled = await shop.orders.cancel(
        shop.tenant_id, (await shop.place(customer, (widget, 1))).id
    )
    opened = len(shop.uows.opened)

    everything = await shop.orders.list(shop.tenant_id, PageRequest(), OrderFilter())
    placed = await shop.orders.list(shop.tenant_id, PageRequest(), OrderFilter(status="placed"))

    assert [o.id for o in everything.items] == [cancelled.id, newer.id, older.id]
    assert placed.items == [newer, older]
    assert len(shop.uows.opened) == opened  # reads open no unit of work


async def test_list_pages_with_a_cursor(shop: Shop) -> None:
    customer, widget = shop.customer(), shop.product(stock=10)
    ids = []
    for _ in range(3):
        ids.append((await shop.place(customer, (widget, 1))).id)
        shop.clock.advance(timedelta(seconds=1))

    first = await shop.orders.list(shop.tenant_id, PageRequest(limit=2), OrderFilter())
    rest = await shop.orders.list(
        shop.tenant_id, PageRequest(2, Keyset.decode(first.next_cursor or "")), OrderFilter()
    )

    assert [o.id for o in first.items + rest.items] == ids[::-1]
    assert rest.next_cursor is None


async def test_a_cancelled_order_keeps_its_lines_and_total(shop: Shop) -> None:
    placed = await shop.place(shop.customer(), (shop.product(unit_price="4.00"), 2))

    cancelled = await shop.orders.cancel(shop.tenant_id, placed.id)

    assert replace(cancelled, status="placed", cancelled_at=None, invoice=None) == replace(
        placed, invoice=None
    )
