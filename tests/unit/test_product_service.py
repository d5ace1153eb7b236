"""ProductService on in-memory fakes: admins create, change and adjust; everyone reads."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import (
    Conflict,
    InsufficientStock,
    InvalidInput,
    NotFound,
    PermissionDenied,
    UnknownReferences,
)
from domain.model.paging import PageRequest
from domain.model.products import Movement, NewProduct, ProductChanges, StockAdjustment
from domain.ports import IdempotencyClaim, ProductFilter
from tests.unit.shop import Shop

# ---- create ----------------------------------------------------------------------------------


async def test_create_with_initial_stock_commits_the_product_and_an_adjustment_movement(
    shop: Shop,
) -> None:
    new = NewProduct("PEN-1", "Pen", Decimal("1.25"), stock=7)

    product = await shop.products.create(shop.admin, new)

    assert (product.sku, product.name, product.unit_price, product.stock, product.active) == (
        "PEN-1",
        "Pen",
        Decimal("1.25"),
        7,
        True,
    )
    assert await shop.products.get(shop.tenant_id, product.id) == product
    assert shop.store.movements_of(shop.tenant_id) == [
        Movement(product.id, 7, "adjustment", note="initial stock")
    ]
    assert shop.uows.opened[0].results == [product]


async def test_create_without_stock_writes_no_movement(shop: Shop) -> None:
    product = await shop.products.create(shop.admin, NewProduct("PEN-1", "Pen", Decimal("1.25")))

    assert product.stock == 0
    assert shop.store.movements == [] and shop.uows.commits == 1


async def test_only_an_admin_may_create_a_product(shop: Shop) -> None:
    with pytest.raises(PermissionDenied):
        await shop.products.create(shop.sales, NewProduct("PEN-1", "Pen", Decimal(1)))
    assert shop.uows.opened == [] and shop.store.products == {}


async def test_create_with_a_taken_sku_propagates_the_conflict_and_commits_nothing(
    shop: Shop,
) -> None:
    await shop.products.create(shop.admin, NewProduct("PEN-1", "Pen", Decimal(1), stock=3))
    before = shop.store.copy()

    with pytest.raises(Conflict):
        await shop.products.create(shop.admin, NewProduct("PEN-1", "Other", Decimal(2), stock=5))

    assert shop.store == before


async def test_another_tenant_may_use_the_same_sku(shop: Shop) -> None:
    theirs = Shop(store=shop.store, clock=shop.clock)
    await shop.products.create(shop.admin, NewProduct("PEN-1", "Pen", Decimal(1)))

    product = await theirs.products.create(theirs.admin, NewProduct("PEN-1", "Pen", Decimal(1)))

    assert await theirs.products.get(theirs.tenant_id, product.id) == product


async def test_create_hands_the_idempotency_claim_to_the_unit_of_work_that_commits_it(
    shop: Shop,
) -> None:
    claim = IdempotencyClaim("key-1", b"fingerprint", "POST /products", 201)

    product = await shop.products.create(shop.admin, NewProduct("P", "Pen", Decimal(1)), claim)

    (uow,) = shop.uows.opened
    assert (uow.idempotency, uow.results) == (claim, [product])


# ---- update ----------------------------------------------------------------------------------


async def test_update_changes_only_the_given_fields_and_commits(shop: Shop) -> None:
    widget = shop.product(unit_price="2.50")
    shop.clock.advance(timedelta(minutes=1))

    updated = await shop.products.update(
        shop.admin, widget.id, ProductChanges(unit_price=Decimal("3.00"), active=False)
    )

    assert (updated.name, updated.unit_price, updated.active, updated.stock) == (
        widget.name,
        Decimal("3.00"),
        False,
        widget.stock,
    )
    assert updated.updated_at == shop.clock.now()
    assert await shop.products.get(shop.tenant_id, widget.id) == updated


async def test_only_an_admin_may_update_a_product(shop: Shop) -> None:
    widget = shop.product()
    with pytest.raises(PermissionDenied):
        await shop.products.update(shop.sales, widget.id, ProductChanges(name="Gadget"))
    assert shop.uows.opened == [] and shop.store.products[(shop.tenant_id, widget.id)] == widget


async def test_update_with_no_fields_raises_invalid_input_and_opens_no_unit_of_work(
    shop: Shop,
) -> None:
    widget = shop.product()
    with pytest.raises(InvalidInput) as raised:
        await shop.products.update(shop.admin, widget.id, ProductChanges())
    assert "_schema" in raised.value.errors and shop.uows.opened == []


async def test_update_of_a_missing_product_raises_not_found_and_commits_nothing(shop: Shop) -> None:
    shop.product()
    before = shop.store.copy()

    with pytest.raises(NotFound):
        await shop.products.update(shop.admin, uuid4(), ProductChanges(name="Gadget"))

    assert shop.uows.commits == 0 and shop.store == before


async def test_an_inactive_product_can_no_longer_be_ordered(shop: Shop) -> None:
    widget = shop.product()
    await shop.products.update(shop.admin, widget.id, ProductChanges(active=False))

    with pytest.raises(UnknownReferences) as raised:
        await shop.place(shop.customer(), (widget, 1))

    assert raised.value.missing == {"inactive_product_ids": [str(widget.id)]}


# ---- adjust_stock ----------------------------------------------------------------------------


async def test_adjust_stock_changes_stock_writes_a_movement_and_returns_the_new_level(
    shop: Shop,
) -> None:
    widget = shop.product(stock=10)

    adjustment = await shop.products.adjust_stock(shop.admin, widget.id, -4, "breakage")

    assert adjustment == StockAdjustment(widget.id, -4, 6, "breakage")
    assert shop.stock_of(widget) == 6
    assert shop.store.movements_of(shop.tenant_id) == [
        Movement(widget.id, -4, "adjustment", note="breakage")
    ]
    assert shop.uows.opened[0].results == [adjustment]


async def test_adjust_stock_may_take_the_stock_to_exactly_zero(shop: Shop) -> None:
    widget = shop.product(stock=3)
    adjustment = await shop.products.adjust_stock(shop.admin, widget.id, -3, None)
    assert adjustment.stock == 0 == shop.stock_of(widget)


async def test_adjust_stock_below_zero_raises_insufficient_stock_and_commits_nothing(
    shop: Shop,
) -> None:
    widget = shop.product(stock=3)
    before = shop.store.copy()

    with pytest.raises(InsufficientStock) as raised:
        await shop.products.adjust_stock(shop.admin, widget.id, -4, "stocktake")

    assert raised.value.shortages == [
        {"product_id": str(widget.id), "requested": 4, "available": 3}
    ]
    assert shop.uows.commits == 0 and shop.store == before


async def test_adjust_stock_by_zero_raises_invalid_input_and_opens_no_unit_of_work(
    shop: Shop,
) -> None:
    widget = shop.product()
    with pytest.raises(InvalidInput) as raised:
        await shop.products.adjust_stock(shop.admin, widget.id, 0, None)
    assert "delta" in raised.value.errors and shop.uows.opened == []


async def test_only_an_admin_may_adjust_stock(shop: Shop) -> None:
    widget = shop.product(stock=10)
    with pytest.raises(PermissionDenied):
        await shop.products.adjust_stock(shop.sales, widget.id, 5, None)
    assert shop.uows.opened == [] and shop.stock_of(widget) == 10


async def test_adjust_stock_of_a_missing_product_raises_not_found_and_commits_nothing(
    shop: Shop,
) -> None:
    with pytest.raises(NotFound):
        await shop.products.adjust_stock(shop.admin, uuid4(), 5, None)
    assert shop.uows.commits == 0 and shop.store.movements == []


async def test_adjust_stock_of_another_tenants_product_raises_not_found(shop: Shop) -> None:
    theirs = Shop(store=shop.store, clock=shop.clock).product(stock=10)

    with pytest.raises(NotFound):
        await shop.products.adjust_stock(shop.admin, theirs.id, 5, None)

    assert shop.store.movements == []


# ---- get and list ----------------------------------------------------------------------------


async def test_get_of_a_missing_product_raises_not_found(shop: Shop) -> None:
    with pytest.raises(NotFound):
        await shop.products.get(shop.tenant_id, uuid4())


async def test_list_passes_the_search_and_the_low_stock_filter_to_the_reader(shop: Shop) -> None:
    low, plenty = shop.product(stock=2), shop.product(stock=50)
    shop.clock.advance(timedelta(seconds=1))
    other = shop.product(stock=1)

    low_stock = await shop.products.list(shop.tenant_id, PageRequest(), ProductFilter(low_stock=2))
    by_sku = await shop.products.list(
        shop.tenant_id, PageRequest(), ProductFilter(q=plenty.sku.lower())
    )

    assert low_stock.items == [other, low]
    assert by_sku.items == [plenty]
    assert shop.uows.opened == []
