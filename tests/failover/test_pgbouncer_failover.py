"""Through PgBouncer (transaction mode, the settings docs/operations.md recommends): a lost
primary is a quick 503 database-unavailable, not a hang, and writes resume soon after
PgBouncer is pointed at the promoted standby."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from tests.failover.observe import describe, notes_stored
from tests.faults.checks import assert_books_balance
from tests.faults.service import StartService
from tests.support.failover_pair import Pair, demo_ids
from tests.support.load_driver import LoadDriver, Timed, Write
from tests.support.pgbouncer import pgbouncer_binary, pgbouncer_in_front

pytestmark = pytest.mark.slow

# docs/operations.md, "Failover": retry a failed server login after 1 s (not 15), and give
# up on a query waiting for a server after 1 s (not 120).
RECOMMENDED = {"server_login_retry": "1", "query_wait_timeout": "1"}


async def first_write(
    session: aiohttp.ClientSession, load: LoadDriver, wanted: int | None, within: float
) -> tuple[list[Timed], list[Write]]:
    """Orders, one after another, until one answers `wanted` (None: any 2xx)."""
    answers, writes = [], []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        write = Write()
        writes.append(write)
        answer = await load.send_write(session, write)
        write.acknowledged = answer.ok
        answers.append(answer)
        if answer.ok if wanted is None else answer.status == wanted:
            break
        await asyncio.sleep(0.05)
    return answers, writes


async def test_through_pgbouncer_a_lost_primary_is_a_quick_503_and_writes_resume_after_reload(
    pair: Pair, start_service: StartService
) -> None:
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer binary not found: apt-get install pgbouncer")
    customer, product = demo_ids(pair.primary)
    with pgbouncer_in_front(pair.primary.url(), RECOMMENDED) as bouncer:
        service = await start_service(
            DATABASE_URL=bouncer.url,
            # LISTEN needs a session of its own: straight to whichever server is primary.
            AUTH_LISTEN_DATABASE_URL=pair.multi_host_url(),
            MIGRATION_DATABASE_URL=pair.primary.url("sales_owner"),
        )
        assert (await service.login()).ok
        base = f"http://127.0.0.1:{service.port}"
        load = LoadDriver(base, service.headers, customer, product)
        async with aiohttp.ClientSession(base) as session:
            before, writes = await first_write(session, load, None, 10)
            assert before[-1].ok, describe(before)

            await asyncio.to_thread(pair.primary.stop)
            stopped = time.monotonic()
            outage, lost = await first_write(session, load, 503, 10)
            writes += lost
            assert outage[-1].problem == "database-unavailable", describe(outage)
            assert time.monotonic() - stopped < 3, f"first 503 only after {describe(outage)}"
            assert outage[-1].retry_after

            await asyncio.to_thread(pair.promote)
            bouncer.repoint(pair.standby.port)
            reloaded = time.monotonic()
            after, resumed = await first_write(session, load, None, 10)
            writes += resumed
            assert after[-1].ok, f"writes did not resume: {describe(after)}\n{service.log()}"
            assert time.monotonic() - reloaded < 3, f"writes resumed only after {describe(after)}"
            assert all(a.ok or a.status == 503 for a in before + outage + after)
            for write in writes:
                if not write.acknowledged:  # what the docs tell a client: same key again
                    again = await load.send_write(session, write)
                    assert again.status == 201, (again.status, again.problem)
    stored = notes_stored(pair.standby, [w.note for w in writes])
    assert sorted(stored) == sorted(w.note for w in writes)
    assert set(stored.values()) == {1}
    assert_books_balance(pair.standby)
