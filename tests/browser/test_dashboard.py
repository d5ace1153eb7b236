"""The admin port's /dashboard in headless Chromium: it renders every worker and the total,
its numbers move under load, and the run leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import asyncio
import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import auth_headers
from tests.support.chromium import browser_page, chromium_binary, wait_for
from tests.support.server import ROOT, serving

pytestmark = pytest.mark.slow

SCREENSHOT = ROOT / "test-artifacts" / "dashboard.png"
REPLICAS_SCREENSHOT = ROOT / "test-artifacts" / "dashboard-replicas.png"
TOTAL = "#rates tr[data-worker='all']"


def field(selector: str, name: str) -> str:
    return f"document.querySelector(\"{selector} [data-field='{name}']\")?.textContent"


def load(base: str, headers: dict[str, str], count: int) -> None:
    def one(_: int) -> int:
        request = urllib.request.Request(base + "/api/sales/customers", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as resp:
            resp.read()
            return resp.status

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(count))) == {200}


async def test_the_dashboard_renders_workers_and_totals_and_moves_under_load(tmp_path, seeder):
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium not on PATH (apt-get install chromium; .ci/run installs it)")
    tenant = seeder.tenant("dash")
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    # No response cache: the same read repeated must reach the database to move the panels.
    env = {"DB_POOL_MIN": "1", "DB_POOL_MAX": "4", "RESPONSE_CACHE_MB": "0"}
    with serving(env, tmp_path / "service.log", workers=2) as service:
        async with browser_page(binary, tmp_path / "profile", tmp_path / "chromium.log") as page:
            await page.send("Page.enable")
            await page.send("Page.navigate", url=service.admin + "/dashboard")
            await wait_for(page, "Number(document.body.dataset.samples) >= 2")
            rows = await page.evaluate(
                "[...document.querySelectorAll('#pool tbody tr')].map(r => r.dataset.worker)"
            )
            assert rows == ["1", "2", "all"]
            assert await page.evaluate(field("#pool tr[data-worker='all']", "max")) == "8"
            # No DATABASE_REPLICA_URLS: no replica series, so no Replicas section.
            assert await page.evaluate("document.getElementById('replicas').hidden") is True
            before = int(await page.evaluate(field(TOTAL, "requests")))

            await asyncio.to_thread(load, service.base, headers, 300)
            await wait_for(page, f"Number({field(TOTAL, 'requests')}) >= {before + 300}")
            rate = await page.evaluate(field(TOTAL, "rate"))
            hold = await page.evaluate(field(TOTAL, "hold-p99"))
            trips = await page.evaluate(field(TOTAL, "round-trips"))
            assert float(rate) > 0
            assert hold.endswith(" ms")
            assert float(trips) >= 1  # a customer list: auth, then the read
            await page.screenshot(SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000


async def test_a_replica_that_is_no_standby_shows_out_of_rotation_and_the_fallbacks(
    tmp_path, seeder
):
    """The Replicas section from two workers' files (the replica gauges' `pid` label), without
    a standby: the "replica" is the primary itself, which every worker keeps out of rotation,
    so every read runs on the primary as a `no_replica` fallback."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium not on PATH (apt-get install chromium; .ci/run installs it)")
    tenant = seeder.tenant("dash-replicas")
    headers = auth_headers(tenant, seeder.session(tenant, tenant.users["admin"]))
    env = {
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "4",
        "RESPONSE_CACHE_MB": "0",  # the same read repeated must reach a database
        "DATABASE_REPLICA_URLS": os.environ["DATABASE_URL"],
        "DB_REPLICA_POOL_MAX": "2",
        "CONSISTENCY_TOKEN_SECRET": "dashboard-test-consistency-secret",
    }
    replica = "#replica-pool tbody tr"
    with serving(env, tmp_path / "service.log", workers=2) as service:
        async with browser_page(binary, tmp_path / "profile", tmp_path / "chromium.log") as page:
            await page.send("Page.enable")
            await page.send("Page.navigate", url=service.admin + "/dashboard")
            await wait_for(page, "!document.getElementById('replicas').hidden")
            await wait_for(page, f"{field(replica, 'up-workers')} === '0 / 2'")
            assert await page.evaluate(field(replica, "up")) == "no"
            assert await page.evaluate(field(replica, "max")) == "4"

            await asyncio.to_thread(load, service.base, headers, 50)
            primary = "#replica-rates tr[data-replica='primary']"
            await wait_for(page, f"Number({field(primary, 'reads')}) >= 50")
            assert await page.evaluate(field(primary, "share")) == "100 %"
            fallback = "#fallbacks tr[data-reason='no_replica']"
            assert int(await page.evaluate(field(fallback, "all"))) >= 50
            # The history charts each replica's pool too (issue 21).
            lines = await wait_for(page, "dashboard.charts.replica_pools?.names")
            assert any(name.endswith(".in_use") for name in lines)
            await page.evaluate("document.getElementById('replicas').scrollIntoView()")
            await page.screenshot(REPLICAS_SCREENSHOT)
    assert REPLICAS_SCREENSHOT.stat().st_size > 10_000
