"""Fixtures for the database-fault tests: a private PostgreSQL cluster they may stop, restart and
break (never the shared server), the demo data on it, and the real service as a child process.

Select these tests with `-m faults`; they also run in the default suite.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from tests.faults.checks import sessions_of_the_service
from tests.faults.service import StartService, service_starter
from tests.support.database_tier import require_database
from tests.support.pgcluster import PgCluster

# Enough for every order the tests place; topped up with an 'adjustment' movement, so the
# books still balance.
STOCK_FOR_STREAMS = 5000


def pytest_configure(config: pytest.Config) -> None:
    require_database()
    config.addinivalue_line(
        "markers", "faults: database-fault tests on a private PostgreSQL cluster (tests/faults)"
    )


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    pg = PgCluster(tmp_path_factory.mktemp("pgcluster"))
    try:
        pg.create()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture(autouse=True)
def cluster_running(cluster: PgCluster) -> PgCluster:
    """Every test starts with the database up, whatever the previous test did to it, and
    without sessions of an earlier test's service (a killed process's end a moment later)."""
    if not cluster.running:
        cluster.start()
    deadline = time.monotonic() + 10
    while sessions_of_the_service(cluster) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sessions_of_the_service(cluster) == [], "an earlier test left the service's sessions"
    return cluster


@dataclass(frozen=True)
class Demo:
    """Ids of demo rows of tenant acme."""

    customer: uuid.UUID  # Wile E. Coyote: places the streams' orders
    other_customer: uuid.UUID  # Road Runner: places the orders that wait on a lock
    seed: uuid.UUID  # ACME-SEED: the product the order streams buy
    anvil: uuid.UUID  # ACME-ANVIL: locked by tests that need a command to wait


@pytest.fixture
def demo(cluster: PgCluster) -> Demo:
    products = dict(
        cluster.query(
            "select p.sku, p.id from products p join tenants t on t.id = p.tenant_id"
            " where t.slug = 'acme'"
        )
    )
    customers = dict(
        cluster.query(
            "select c.email, c.id from customers c join tenants t on t.id = c.tenant_id"
            " where t.slug = 'acme'"
        )
    )
    _top_up(cluster, products["ACME-SEED"], STOCK_FOR_STREAMS)
    return Demo(
        customers["wile@desert.test"],
        customers["beep@desert.test"],
        products["ACME-SEED"],
        products["ACME-ANVIL"],
    )


def _top_up(cluster: PgCluster, product_id: uuid.UUID, at_least: int) -> None:
    cluster.query(
        "with p as (select id, tenant_id, %(n)s - stock as delta from products"
        "           where id = %(id)s and stock < %(n)s),"
        " m as (insert into inventory_movements (tenant_id, product_id, delta, reason, note)"
        "       select tenant_id, id, delta, 'adjustment', 'faults: stock for streams' from p)"
        " update products set stock = %(n)s where id in (select id from p)",
        {"id": str(product_id), "n": at_least},
    )


@pytest.fixture
async def start_service(
    cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StartService]:
    """Start `python -m app` on the private cluster (settings override the environment)."""
    async with service_starter(cluster, tmp_path_factory) as start:
        yield start
