"""DashboardService: one read for the caller's tenant, at the threshold it was configured with."""

from __future__ import annotations

from domain.services.dashboard import DashboardService
from tests.unit.fakes import FakeDashboardReader
from tests.unit.shop import Shop

THRESHOLD = 5


async def test_summary_lists_active_products_at_or_below_the_configured_threshold(
    shop: Shop,
) -> None:
    at, below, above = shop.product(stock=THRESHOLD), shop.product(stock=0), shop.product(stock=6)
    shop.product(stock=1, active=False)
    service = DashboardService(FakeDashboardReader(shop.store, shop.clock), THRESHOLD)

    summary = await service.summary(shop.tenant_id)

    assert [item.id for item in summary.low_stock] == [below.id, at.id]
    assert above.id not in {item.id for item in summary.low_stock}
    assert summary.products == 4


async def test_summary_counts_only_the_callers_tenant(shop: Shop) -> None:
    theirs = Shop(store=shop.store, clock=shop.clock)
    await theirs.place(theirs.customer(), (theirs.product(stock=1), 1))
    await shop.place(shop.customer(), (shop.product(stock=9, unit_price="4.00"), 2))
    reader = FakeDashboardReader(shop.store, shop.clock)

    summary = await DashboardService(reader, THRESHOLD).summary(shop.tenant_id)

    assert reader.calls == [(shop.tenant_id, THRESHOLD)]
    assert (summary.customers, summary.products, summary.orders_placed) == (1, 1, 1)
    assert summary.low_stock == []
    assert str(summary.open_invoices_amount) == "8.00"
