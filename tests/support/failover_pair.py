"""A private primary with a streaming standby that may be stopped, promoted and rebuilt: what
the failover tests and scripts/failover-drill run on (tests/support/standby.py does the
cloning)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.pgcluster import PgCluster
from tests.support.standby import Standby, primary_and_standby_in


@dataclass
class Pair:
    """A primary and its standby, which the tests may stop, promote and rebuild."""

    primary: PgCluster
    standby: Standby
    base: Path

    def multi_host_url(self, role: str = "sales_app") -> str:
        hosts = f"127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}"
        return f"postgresql://{role}@{hosts}/sales?target_session_attrs=read-write"

    def synchronous(self) -> None:
        """Every commit waits until the standby has it: a failover loses no acknowledged
        write (set after the clone: with no standby yet, commits would wait forever)."""
        self.primary.query("alter system set synchronous_standby_names = '*'")
        self.primary.query("select pg_reload_conf()")

    def promote(self) -> None:
        self.standby._pg_ctl("promote")


def new_pair() -> Iterator[Pair]:
    """Created, migrated, seeded and caught up; both stopped and removed afterwards."""
    with primary_and_standby_in("sales-failover-") as (primary, standby, base):
        yield Pair(primary, standby, base)


def demo_ids(cluster: PgCluster) -> tuple[str, str]:
    """(customer, product) of tenant acme the load orders with; stock topped up so the
    orders never run out (an 'adjustment' movement keeps the books balanced)."""
    customer = cluster.query(
        "select c.id from customers c join tenants t on t.id = c.tenant_id"
        " where t.slug = 'acme' and c.email = 'wile@desert.test'"
    )[0][0]
    product = cluster.query(
        "select p.id from products p join tenants t on t.id = p.tenant_id"
        " where t.slug = 'acme' and p.sku = 'ACME-SEED'"
    )[0][0]
    cluster.query(
        "with p as (select id, tenant_id, 100000 - stock as delta from products"
        "           where id = %(id)s and stock < 100000),"
        " m as (insert into inventory_movements (tenant_id, product_id, delta, reason, note)"
        "       select tenant_id, id, delta, 'adjustment', 'failover: stock' from p)"
        " update products set stock = 100000 where id in (select id from p)",
        {"id": str(product)},
    )
    return str(customer), str(product)
