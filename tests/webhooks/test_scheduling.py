"""When the deliverer looks at an endpoint again: not at once after a round that could not serve
it, and at once, with every tenant, when its listener comes back."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from infrastructure.webhooks.metrics import DeliveryMetrics
from tests.webhooks.test_delivery import (
    admin,
    customers,
    delivering,
    endpoint,
    first_arrivals,
    until,
)


async def test_an_endpoint_whose_secret_cannot_be_read_waits_a_minute_instead_of_spinning(
    api, receiver, tenant, seeder
):
    headers = admin(seeder, tenant)
    await endpoint(api, headers, receiver.url())
    await customers(api, headers, 1)
    # A deliverer given another WEBHOOK_SECRET_KEY than the service's cannot sign for it.
    async with delivering(key="not-the-key-the-secret-was-sealed-with"):
        await until(lambda: _next_attempt_in(seeder, tenant) > 50, what="a minute's wait")
    assert receiver.calls == []
    (row,) = seeder.run(tenant.id, "select lease_owner, enabled from webhook_endpoints")
    assert row == (None, True), "released, and kept for a deliverer that has the key"


async def test_the_listeners_return_makes_the_deliverer_look_at_every_tenant_at_once(
    api, receiver, tenant, seeder
):
    registry = CollectorRegistry()
    metrics = DeliveryMetrics(registry)
    metrics.retry_queue.set(-1)  # every scan sets it: -1 until the first one is over
    # No periodic scan during the test, and no listener: only wake() can bring the news.
    async with delivering(metrics=metrics, scan_every=3600) as (deliverer, _):
        await until(lambda: _retry_queue(registry) >= 0, what="the first scan")
        # This tenant had no endpoint when it was scanned; its notifications were missed.
        headers = admin(seeder, tenant)
        hook = await endpoint(api, headers, receiver.url())
        made = await customers(api, headers, 1)
        deliverer.wake()  # what the listener does when it is back
        await until(lambda: receiver.delivered, what="the delivery the scan found")
    assert first_arrivals(hook["secret"], receiver.delivered) == made


def _next_attempt_in(seeder, tenant) -> float:
    """Seconds until the tenant's one endpoint may be claimed again."""
    (row,) = seeder.run(
        tenant.id, "select extract(epoch from next_attempt_at - now()) from webhook_endpoints"
    )
    return float(row[0])


def _retry_queue(registry: CollectorRegistry) -> float:
    value = registry.get_sample_value("webhook_retry_queue_depth")
    assert value is not None
    return value
