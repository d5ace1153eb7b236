"""Unknown-tenant floods: each new slug costs a round trip, so an address gets only so many."""

from __future__ import annotations

import uuid

from tests.support.sales import assert_problem, headers_for


async def test_an_address_naming_unknown_tenants_is_limited_with_retry_after(
    make_client, tenant, seeder
):
    client = await make_client(unknown_tenants_burst=3, unknown_tenants_per_minute=1)
    headers = headers_for(seeder, tenant)
    assert (await client.get("/api/sales/customers", headers=headers)).status == 200  # cached
    for _ in range(3):
        bogus = {**headers, "X-Tenant": f"bogus-{uuid.uuid4().hex[:8]}"}
        await assert_problem(
            await client.get("/api/sales/customers", headers=bogus), 404, "unknown-tenant"
        )
    bogus = {**headers, "X-Tenant": f"bogus-{uuid.uuid4().hex[:8]}"}
    resp = await client.get("/api/sales/customers", headers=bogus)
    problem = await assert_problem(resp, 429, "rate-limited")
    assert int(resp.headers["Retry-After"]) >= 1
    assert "unknown tenant" in problem["detail"]
    # The tenant it already uses is answered from the cache: no lookup, no refusal.
    assert (await client.get("/api/sales/customers", headers=headers)).status == 200
