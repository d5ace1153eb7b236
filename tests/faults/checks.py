"""What must hold after any fault, checked in the database as the cluster superuser (no RLS):
every order is whole, the books balance, invoice numbers have no gaps, and each command a
client sent landed completely or not at all."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable

from tests.faults.service import API, APPLICATION_NAME, Answer, Order, Service, Stream
from tests.support.pgcluster import HeldLocks, PgCluster

# An order is whole when it has its lines, one 'order' movement per line taking exactly the
# ordered quantity, and its invoice for the order's total.
_BROKEN_ORDERS = """
    select o.note, o.id from orders o
    where not exists (select 1 from order_lines l where l.order_id = o.id)
       or (select count(*) from inventory_movements m
           where m.order_id = o.id and m.reason = 'order')
          <> (select count(*) from order_lines l where l.order_id = o.id)
       or (select coalesce(-sum(m.delta), 0) from inventory_movements m
           where m.order_id = o.id and m.reason = 'order')
          <> (select sum(l.quantity) from order_lines l where l.order_id = o.id)
       or (select count(*) from invoices i where i.order_id = o.id and i.amount = o.total) <> 1
"""
_OFF_BOOKS = """
    select p.sku, p.stock, coalesce(sum(m.delta), 0) from products p
    left join inventory_movements m on m.product_id = p.id
    group by p.id having p.stock <> coalesce(sum(m.delta), 0)
"""
_INVOICE_NUMBERS = """
    select t.slug,
           array(select substring(i.number from '[0-9]+$')::int as n from invoices i
                 where i.tenant_id = t.id order by n),
           coalesce((select c.last_number from invoice_counters c where c.tenant_id = t.id), 0)
    from tenants t
"""


def assert_books_balance(cluster: PgCluster) -> None:
    assert cluster.query(_BROKEN_ORDERS) == [], "half-written orders"
    assert cluster.query(_OFF_BOOKS) == [], "stock differs from the sum of movements"
    for slug, numbers, last in cluster.query(_INVOICE_NUMBERS):
        assert numbers == list(range(1, len(numbers) + 1)) and last == len(numbers), (
            f"invoice numbers of {slug} have gaps: {numbers}, counter at {last}"
        )


def stored_orders(cluster: PgCluster, orders: Iterable[Order]) -> dict[str, int]:
    """note -> how many orders carry it, for the given commands."""
    notes = [o.note for o in orders]
    rows = cluster.query(
        "select note, count(*) from orders where note = any(%s) group by note", (notes,)
    )
    return dict(rows)


def assert_every_acknowledged_order_stored_once(cluster: PgCluster, orders: list[Order]) -> None:
    stored = stored_orders(cluster, orders)
    assert all(count == 1 for count in stored.values()), f"duplicated orders: {stored}"
    missing = [o.note for o in orders if o.acknowledged and o.note not in stored]
    assert missing == [], f"acknowledged (2xx) orders missing from the database: {missing}"


def assert_pool_refilled(cluster: PgCluster, pool_max: int = 5) -> set[int]:
    """The service holds sessions again, no more than its pool size, none left in a
    transaction; returns their pids."""
    sessions = sessions_of_the_service(cluster)
    assert 1 <= len(sessions) <= pool_max, sessions
    assert all(state != "idle in transaction" for _, state, _ in sessions), sessions
    return {pid for pid, _, _ in sessions}


def assert_fault_answers(answers: Iterable[Answer]) -> None:
    """During a fault the service answers 2xx or a retryable 503 problem, nothing else."""
    for a in answers:
        assert a.status is not None, f"{a.kind}: no answer ({a.error})"
        assert a.ok or a.status == 503, f"{a.kind}: {a.status} {a.body}"
        if a.status == 503:
            assert a.headers.get("Retry-After"), f"{a.kind}: 503 without Retry-After"
            assert isinstance(a.body, dict) and a.body.get("status") == 503, a.body


def sessions_of_the_service(cluster: PgCluster) -> list[tuple[int, str, str | None]]:
    """(pid, state, wait_event_type) of every backend the service holds."""
    return cluster.query(
        "select pid, state, wait_event_type from pg_stat_activity where application_name = %s",
        (APPLICATION_NAME,),
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float, pause: float = 0.1
) -> bool:
    """Poll `check` until it holds or `within` seconds passed; never asserts on timing."""
    deadline = time.monotonic() + within
    while True:
        if await check():
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(pause)


async def recovers(service: Service, stream: Stream, within: float = 10) -> bool:
    """Bursts of reads and of the stream's orders until one burst succeeds completely, within a
    few seconds. Everything sent is added to the stream's, so the checks afterwards cover
    these requests too."""

    async def burst_succeeds() -> bool:
        burst = [Order(stream.customer_id, stream.product_id) for _ in range(2)]
        stream.orders.extend(burst)
        got = await asyncio.gather(
            service.get("/readyz"),
            service.get(f"{API}/products?limit=5"),
            service.get(f"{API}/orders?limit=5"),
            *(service.place_order(o) for o in burst),
        )
        stream.answers.extend(got[1:])
        return all(a.ok for a in got)

    return await eventually(burst_succeeds, within=within, pause=0.2)


async def assert_stream_came_through(
    cluster: PgCluster, service: Service, stream: Stream, gone: set[int]
) -> None:
    """After a fault under a Stream: the service recovers by itself, every answer was a 2xx or
    a retryable 503, the refilled pool holds none of the sessions in `gone`, and every order is
    stored exactly once and whole."""
    assert await recovers(service, stream)
    assert_fault_answers(stream.answers)  # the stream's and the recovery's
    assert assert_pool_refilled(cluster).isdisjoint(gone), "sessions from before the fault"
    # A 503 command committed completely or not at all: resent with its key, each one
    # is either replayed or placed now, and ends up stored exactly once.
    await resend_unacknowledged(service, stream.orders)
    assert_every_acknowledged_order_stored_once(cluster, stream.orders)
    assert_books_balance(cluster)


async def resend_unacknowledged(service: Service, orders: list[Order]) -> None:
    """Send every order that got no 2xx again, with the same Idempotency-Key: if its first
    attempt committed this replays it, if not it is placed now; either way, once."""
    for order in orders:
        if not order.acknowledged:
            answer = await service.place_order(order)
            assert answer.status == 201, (answer.status, answer.body)


async def waits_for_a_lock(cluster: PgCluster) -> bool:
    return any(wait == "Lock" for _, _, wait in sessions_of_the_service(cluster))


def product_locked(cluster: PgCluster, product_id: uuid.UUID) -> HeldLocks:
    """Another transaction holding the product's row lock, so that an order for it waits."""
    return cluster.hold_locks("select 1 from products where id = %s for update", (product_id,))
