"""A deliverer's lease on an endpoint lasts as long as its batch: a slow receiver never gets one
delivery from two deliverers."""

from __future__ import annotations

from collections import Counter

from tests.webhooks.conftest import verified
from tests.webhooks.test_delivery import admin, customers, delivering, endpoint, until

# Each call may take 2 s and the lease runs 1 s past that: a batch of five one-second calls
# outlasts one lease three seconds long.
SLOW = {"call_timeout": 2.0, "lease_margin": 1.0}


async def test_a_slow_batch_of_resends_keeps_its_endpoint_from_a_second_deliverer(
    api, receiver, tenant, seeder
):
    headers = admin(seeder, tenant)
    hook = await endpoint(api, headers, receiver.url())
    await customers(api, headers, 5)
    async with delivering():
        await until(lambda: len(receiver.delivered) == 5, what="the first deliveries")
    log = f"/api/sales/webhooks/{hook['id']}/deliveries"
    for delivery in (await (await api.get(log, headers=headers)).json())["items"]:
        assert (await api.post(f"{log}/{delivery['id']}/retry", headers=headers)).status == 202
    sent_first = [verified(hook["secret"], c)["id"] for c in receiver.delivered]
    receiver.calls.clear()
    receiver.delay = 1.0

    async with delivering(**SLOW):
        await until(lambda: receiver.calls, what="the first deliverer's first resend")
        async with delivering(**SLOW):  # looks for work every half second meanwhile
            await until(lambda: _pending(seeder, tenant) == 0, what="every resend made")

    resent = Counter(verified(hook["secret"], c)["id"] for c in receiver.calls)
    assert sorted(resent) == sorted(sent_first)
    assert max(resent.values()) == 1, "a resend was sent twice"
    assert receiver.overlaps == []


def _pending(seeder, tenant) -> int:
    (row,) = seeder.run(
        tenant.id, "select count(*) from webhook_deliveries where outcome = 'pending'"
    )
    return row[0]
