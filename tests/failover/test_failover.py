"""A primary lost under load: reads go on from the standby, writes come back on the promoted
standby without a restart, and nothing acknowledged is lost (synchronous replication).

The tests share one primary + standby pair and change it: the first stops and restarts the
primary, the second promotes the standby, the third rebuilds the old primary as a standby of
the new one (the `promoted` fixture makes sure the failover happened, whoever ran before).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.failover.conftest import SECRET
from tests.failover.observe import describe, metric, notes_stored, wait_streaming
from tests.faults.checks import assert_books_balance
from tests.faults.service import API, Service, StartService
from tests.support.failover_pair import Pair, demo_ids
from tests.support.load_driver import LoadDriver, Write
from tests.support.standby import Standby

pytestmark = pytest.mark.slow

READS = [f"{API}/products?limit=5", f"{API}/orders?limit=5", f"{API}/customers?limit=5"]


def with_replica(pair: Pair) -> dict[str, str]:
    return {
        "DATABASE_URL": pair.multi_host_url(),
        "MIGRATION_DATABASE_URL": pair.primary.url("sales_owner"),
        "DATABASE_REPLICA_URLS": pair.standby.url(),
        "CONSISTENCY_TOKEN_SECRET": SECRET,
    }


async def warm(service: Service) -> None:
    """Logged in, the principal cached, the standby serving reads."""
    assert (await service.login()).ok

    async def ready() -> bool:
        for path in READS:
            assert (await service.get(path)).ok
        return (
            await metric(service, "auth_listener_up") == 1
            and await metric(service, "auth_cache_entries") >= 1
            and await metric(service, "db_replica_up") == 1
        )

    deadline = time.monotonic() + 20
    while not await ready():
        assert time.monotonic() < deadline, f"the service never warmed up\n{service.log()}"
        await asyncio.sleep(0.1)


async def admin_get(service: Service, path: str) -> tuple[int, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{service.admin_port}{path}") as resp,
    ):
        return resp.status, await resp.json()


def stop_immediately(cluster: object) -> None:
    cluster._pg_ctl("stop", "-m", "immediate")  # type: ignore[attr-defined]


async def test_while_the_primary_is_down_warm_principals_read_from_the_standby(
    pair: Pair, start_service: StartService
) -> None:
    service = await start_service(**with_replica(pair))
    await warm(service)
    on_replica = await metric(service, "db_reads_total", target="replica")
    await asyncio.to_thread(stop_immediately, pair.primary)
    try:
        answers = []
        until = time.monotonic() + 3
        while time.monotonic() < until:
            answers += await asyncio.gather(*(service.get(path) for path in READS))
        failed = [(a.status, a.body) for a in answers if not a.ok]
        assert failed == [], f"{len(failed)} of {len(answers)} reads failed: {failed[:5]}"
        served = await metric(service, "db_reads_total", target="replica") - on_replica
        assert served >= len(answers), "the reads did not come from the standby"
        ready = await admin_get(service, "/readyz")
        assert ready[0] == 503 and "a standby" in ready[1]["why"], ready
        assert "replica_serving_without_primary" in service.log_path.read_text()
    finally:
        await asyncio.to_thread(pair.primary.start)
        await asyncio.to_thread(wait_streaming, pair.primary)


async def test_failover_under_write_load_loses_no_acknowledged_write(
    pair: Pair, start_service: StartService
) -> None:
    pair.synchronous()
    await asyncio.to_thread(wait_streaming, pair.primary, True)
    customer, product = demo_ids(pair.primary)
    service = await start_service(**with_replica(pair))
    await warm(service)
    base = f"http://127.0.0.1:{service.port}"
    async with LoadDriver(base, service.headers, customer, product, writers=3) as load:
        assert await load.until(lambda d: sum(w.acknowledged for w in d.writes) >= 10, 20)
        stopped = time.monotonic()
        await asyncio.to_thread(stop_immediately, pair.primary)
        refused = await load.until(
            lambda d: any(a.kind == "write" and a.status == 503 for a in d.since(stopped)), 10
        )
        assert refused, "no command was refused while no primary was reachable"
        promoted = time.monotonic()
        await asyncio.to_thread(pair.promote)
        resumed = await load.until(
            lambda d: any(a.kind == "write" and a.ok for a in d.since(promoted)), 5
        )
        assert resumed, f"no write succeeded within 5 s of the promotion\n{service.log()}"
    no_answer = [a for a in load.answers if not a.ok and a.status != 503]
    assert no_answer == [], describe(no_answer)
    during = [a for a in load.since(stopped) if a.kind == "write" and a.status == 503]
    kinds = {a.problem for a in during}
    # On failure, say which answers and what the service logged: a pool-timeout here was
    # seen once in a full CI run (2 s waiting for a connection) and not since.
    assert kinds <= {"database-unavailable", "commit-outcome-unknown"}, (
        f"{kinds}: {describe(during)}\n{service.log()}"
    )
    assert all(a.retry_after for a in during), "a 503 without Retry-After"
    slow = [a for a in during if a.took >= 1.0]
    assert slow == [], f"503s that took a second or more: {describe(slow)}"
    await resend_unacknowledged(base, service.headers, load)
    stored = notes_stored(pair.standby, [w.note for w in load.writes])
    assert all(count == 1 for count in stored.values()), "an order was placed twice"
    lost = [w.note for w in load.writes if w.note not in stored]
    assert lost == [], f"{len(lost)} acknowledged or resent orders missing after the failover"
    assert_books_balance(pair.standby)


async def resend_unacknowledged(base: str, headers: dict[str, str], load: LoadDriver) -> None:
    """What the docs tell a client to do with a 503: send it again with the same key."""
    async with aiohttp.ClientSession(base) as session:
        for write in load.writes:
            if not write.acknowledged:
                answer = await load.send_write(session, write)
                assert answer.status == 201, (answer.status, answer.problem)
                write.acknowledged = True


@pytest.fixture
def promoted(pair: Pair) -> Pair:
    """The standby is the primary now (promoted here unless an earlier test did)."""
    if pair.standby.query("select pg_is_in_recovery()")[0][0]:
        if pair.primary.running:
            stop_immediately(pair.primary)
        pair.promote()
    return pair


@pytest.fixture
def rejoined(promoted: Pair) -> Iterator[Standby]:
    """The old primary's address, back as a fresh standby of the new primary."""
    if promoted.primary.running:
        stop_immediately(promoted.primary)
    home = Path(tempfile.mkdtemp(prefix="rejoined-", dir=promoted.base))
    home.chmod(0o755)  # as root, the postgres account must enter it
    standby = Standby(promoted.standby, home)
    standby.port = promoted.primary.port  # the address the service lists first
    standby.slot = f"sales_rejoined_{standby.port}"
    try:
        standby.create()
        yield standby
    finally:
        standby.destroy()


async def test_an_old_primary_back_as_a_standby_is_never_written_to(
    promoted: Pair, rejoined: Standby, start_service: StartService
) -> None:
    customer, product = demo_ids(promoted.standby)
    service = await start_service(
        DATABASE_URL=promoted.multi_host_url(),  # the old primary, now a standby, listed first
        MIGRATION_DATABASE_URL=promoted.standby.url("sales_owner"),
    )
    assert (await service.login()).ok
    base = f"http://127.0.0.1:{service.port}"
    async with aiohttp.ClientSession(base) as session:
        load = LoadDriver(base, service.headers, customer, product)
        writes = [Write() for _ in range(10)]
        answers = [await load.send_write(session, w) for w in writes]
    assert [a.status for a in answers] == [201] * 10, describe(answers)
    assert rejoined.query("select pg_is_in_recovery()")[0][0], "the old primary was promoted"
    stored = notes_stored(promoted.standby, [w.note for w in writes])
    assert sorted(stored) == sorted(w.note for w in writes)


async def test_a_write_that_meets_a_server_turned_read_only_runs_again_on_the_primary(
    promoted: Pair, rejoined: Standby, start_service: StartService
) -> None:
    """The service writes to the new primary; then that server turns read-only (fenced, as
    an operator or a pooler pointed at a standby would make it) while the other listed
    server has become a primary: the write meets 25006, and runs once more there."""
    customer, product = demo_ids(promoted.standby)
    service = await start_service(
        DATABASE_URL=promoted.multi_host_url(),
        MIGRATION_DATABASE_URL=promoted.standby.url("sales_owner"),
        LOG_LEVEL="INFO",
    )
    assert (await service.login()).ok
    base = f"http://127.0.0.1:{service.port}"
    load = LoadDriver(base, service.headers, customer, product)
    async with aiohttp.ClientSession(base) as session:
        first = Write()
        assert (await load.send_write(session, first)).status == 201
        await asyncio.to_thread(rejoined._pg_ctl, "promote")
        fenced = promoted.standby
        fenced.query("alter system set default_transaction_read_only = on")
        fenced.query("select pg_reload_conf()")
        try:
            second = Write()
            answer = await load.send_write(session, second)
        finally:
            fenced.query("alter system reset default_transaction_read_only")
            fenced.query("select pg_reload_conf()")
    assert answer.status == 201, describe([answer])
    assert notes_stored(rejoined, [second.note]) == {second.note: 1}
    assert notes_stored(fenced, [second.note]) == {}
    log = service.log_path.read_text()
    assert '"reason":"ReadOnlyServer"' in log and "database_server_changed" in log
