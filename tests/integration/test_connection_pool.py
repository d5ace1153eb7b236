"""The connection pool on a real server: bounded, fair, and it never loses a slot."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator

import psycopg2
import pytest

from infrastructure.db.connection_pool import ConnectionPool, PoolClosed


@pytest.fixture
async def pool() -> AsyncIterator[ConnectionPool]:
    made = ConnectionPool(os.environ["DATABASE_URL"], 2, timeout=10)
    yield made
    made.terminate()


async def backend_pid(conn) -> int:
    async with conn.cursor() as cur:
        await cur.execute("select pg_backend_pid()")
        ((pid,),) = await cur.fetchall()
        return pid


async def test_many_clients_share_at_most_maxsize_connections_in_arrival_order(pool):
    sizes: list[int] = []
    served: list[int] = []
    pids: set[int] = set()

    async def client(n: int) -> None:
        conn = await pool.acquire()
        try:
            served.append(n)
            sizes.append(pool.size)
            pids.add(await backend_pid(conn))
            await asyncio.sleep(0.01)
        finally:
            pool.release(conn)

    tasks = []
    for n in range(12):
        tasks.append(asyncio.create_task(client(n)))
        await asyncio.sleep(0)  # each one queues before the next arrives
    await asyncio.gather(*tasks)

    assert max(sizes) == 2 and len(pids) == 2
    # Clients 0 and 1 open the two connections side by side; on a busy machine client 0 can
    # finish and hand its connection to client 2 before client 1's connect completes, so
    # where 1 lands among the others says nothing about fairness. The ten that had to wait
    # are served first come, first served, and everyone exactly once.
    assert sorted(served) == list(range(12))
    waited = [n for n in served if n >= 2]
    assert waited == list(range(2, 12)), "waiters must be served in arrival order"
    assert pool.size == pool.freesize == 2


async def test_a_waiter_that_gives_up_leaves_nothing_behind(pool):
    held = [await pool.acquire(), await pool.acquire()]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await pool.acquire()
    assert pool.waiters == 0
    for conn in held:
        pool.release(conn)

    # Both connections are back and idle; the abandoned wait did not swallow one.
    again = [pool.acquire_nowait(), pool.acquire_nowait()]
    assert all(conn is not None for conn in again) and pool.size == 2
    for conn in again:
        pool.release(conn)


async def test_a_waiter_cancelled_as_it_is_served_passes_the_connection_on(pool):
    held = [await pool.acquire(), await pool.acquire()]
    first = asyncio.create_task(pool.acquire())
    second = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)  # both queue
    pool.release(held[0])  # hands held[0] to `first` ...
    first.cancel()  # ... which is cancelled before it runs
    got = await asyncio.wait_for(second, 1)

    assert got is held[0], "the cancelled waiter's connection must go to the next waiter"
    assert first.cancelled() and pool.waiters == 0
    pool.release(got)
    pool.release(held[1])
    assert pool.size == pool.freesize == 2


async def test_a_connection_returned_inside_a_transaction_is_dropped_and_replaced(pool):
    conn = await pool.acquire()
    other = await pool.acquire()
    dirty_pid = await backend_pid(conn)
    async with conn.cursor() as cur:
        await cur.execute("begin; select 1")
    waiter = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)

    pool.release(conn)  # mid-transaction: closed, and the waiter opens a fresh one
    fresh = await asyncio.wait_for(waiter, 5)

    assert conn.closed and not fresh.closed
    assert await backend_pid(fresh) != dirty_pid
    assert pool.size == 2
    pool.release(fresh)
    pool.release(other)


async def test_terminate_fails_waiters_and_later_acquires(pool):
    held = [await pool.acquire(), await pool.acquire()]
    waiter = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)

    pool.terminate()

    with pytest.raises(PoolClosed):
        await waiter
    with pytest.raises(PoolClosed):
        await pool.acquire()
    assert all(conn.closed for conn in held) and pool.size == 0


async def test_reset_fails_a_running_statement_at_once_and_hands_its_slot_on(pool):
    busy, other = await pool.acquire(), await pool.acquire()
    waiter = asyncio.create_task(pool.acquire())  # no slot free: it waits
    cur = await busy.cursor()
    running = asyncio.create_task(cur.execute("select pg_sleep(30)"))
    await asyncio.sleep(0.1)

    pool.reset()

    with pytest.raises(psycopg2.OperationalError):
        await asyncio.wait_for(running, 2)
    fresh = await asyncio.wait_for(waiter, 5)  # opened in a slot reset() freed
    assert not fresh.closed and await backend_pid(fresh)
    assert busy.closed and other.closed
    pool.release(busy)  # what Database does on the way out: ignored, already dropped
    pool.release(other)
    pool.release(fresh)
    assert pool.size == 1


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_failed_connect_frees_its_slot():
    pool = ConnectionPool(f"host=127.0.0.1 port={closed_port()} dbname=x user=x", 1, timeout=5)
    try:
        for _ in range(3):  # the second and third try connect again rather than wait forever
            with pytest.raises(psycopg2.OperationalError):
                await asyncio.wait_for(pool.acquire(), 5)
            assert pool.size == 0
    finally:
        pool.terminate()


async def test_the_oldest_waiters_age_is_the_first_waiters_and_zero_once_none_waits(pool):
    assert pool.oldest_wait() == 0.0
    held = [await pool.acquire(), await pool.acquire()]
    first = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.05)
    second_from = time.monotonic()  # the second waiter starts after this
    second = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.05)
    assert pool.oldest_wait() > time.monotonic() - second_from  # older than the second
    pool.release(held.pop())
    served = await first
    assert 0 < pool.oldest_wait() <= time.monotonic() - second_from  # now the second's
    pool.release(held.pop())
    pool.release(await second)
    pool.release(served)
    assert pool.oldest_wait() == 0.0
