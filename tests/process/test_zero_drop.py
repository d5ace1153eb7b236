"""Deploys without a dropped request: SIGHUP (new configuration) and `python -m app upgrade`
(new code) replace every worker under a read load on 40 keep-alive connections plus a write
load, and SIGTERM drains, with every acknowledged order stored.

New workers take over only once ready, and old ones answer each keep-alive connection's next
request with `Connection: close` before they go (app/runtime/draining.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time

import psycopg2
import pytest

from tests.support.load_driver import LoadDriver, Timed
from tests.support.sales import headers_for, product
from tests.support.server import ROOT, serving, workers_of

pytestmark = pytest.mark.slow

ENV = {"DB_POOL_MIN": "1", "DB_POOL_MAX": "4", "SHUTDOWN_TIMEOUT": "10", "LOG_LEVEL": "INFO"}


def failures(answers: list[Timed], since: float = 0.0) -> list[str]:
    return [
        f"{a.kind} {a.status or a.error} sent at {a.sent - since:+.2f}s, after {a.took:.2f}s"
        f" on a {'new' if a.fresh else 'kept-alive'} connection"
        for a in answers
        if not a.ok
    ]


def stored_notes(notes: list[str]) -> set[str]:
    conn = psycopg2.connect(os.environ["ADMIN_DATABASE_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute("select note from orders where note = any(%s)", (notes,))
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


def load_for(seeder, service) -> LoadDriver:  # type: ignore[no-untyped-def]
    tenant = seeder.tenant("deploy")
    headers = headers_for(seeder, tenant)
    customer, item = seeder.customer(tenant), product(seeder, tenant, stock=100_000)
    return LoadDriver(
        service.base, headers, str(customer), str(item), writers=4, readers=40, pause=0.005
    )


async def replaced(manager: int, old: set[int], within: float = 60) -> set[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        now = workers_of(manager)
        if len(now) == len(old) and not now & old:
            return now
        await asyncio.sleep(0.1)
    raise AssertionError(f"the workers were not replaced: {old} -> {workers_of(manager)}")


async def more_answers(load: LoadDriver, count: int) -> None:
    target = len(load.answers) + count
    assert await load.until(lambda d: len(d.answers) >= target, 30), "the load stalled"


async def test_sighup_replaces_every_worker_without_a_failed_request(tmp_path, seeder) -> None:
    with serving(ENV, tmp_path / "service.log", workers=2) as service:
        load = load_for(seeder, service)
        async with load:
            await more_answers(load, 200)
            old = workers_of(service.proc.pid)
            hup = time.monotonic()
            service.proc.send_signal(signal.SIGHUP)
            await replaced(service.proc.pid, old)
            await more_answers(load, 200)
        assert failures(load.answers, hup) == [], (
            f"of {len(load.answers)}: {failures(load.answers, hup)}"
        )
    acknowledged = [w.note for w in load.writes if w.acknowledged]
    assert len(acknowledged) > 0
    assert stored_notes(acknowledged) == set(acknowledged)


async def test_the_upgrade_command_replaces_the_manager_and_workers_without_a_failed_request(
    tmp_path, seeder
) -> None:
    with serving(ENV, tmp_path / "service.log", workers=2) as service:
        manager = service.proc.pid
        try:
            load = load_for(seeder, service)
            async with load:
                await more_answers(load, 200)
                upgrade = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "app", "upgrade", "--pid", str(manager), cwd=ROOT,
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                )  # fmt: skip
                out, _ = await upgrade.communicate()
                assert upgrade.returncode == 0, out.decode()
                assert await asyncio.to_thread(service.proc.wait, 30) == 0  # the old manager
                await more_answers(load, 200)
            assert failures(load.answers) == [], f"of {len(load.answers)} requests"
        finally:
            # The new manager was the old one's child, in its process group (of its own).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(manager, signal.SIGTERM)
    acknowledged = [w.note for w in load.writes if w.acknowledged]
    assert stored_notes(acknowledged) == set(acknowledged)


async def test_sigterm_drains_keep_alive_connections_and_keeps_every_acknowledged_order(
    tmp_path, seeder
) -> None:
    with serving(ENV, tmp_path / "service.log", workers=2) as service:
        load = load_for(seeder, service)
        async with load:
            await more_answers(load, 200)
            stopped = time.monotonic()
            service.proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(service.proc.wait, 30) == 0
            gone = time.monotonic()
    # Once the workers have closed the listening socket, a new connection is refused (or
    # reset, if the kernel had taken it in first): that is the service stopped. A request on
    # a kept-alive connection must never fail: it is answered, with `Connection: close`.
    dropped = [a for a in load.answers if not a.ok and not a.fresh]
    assert dropped == [], failures(dropped, stopped)
    assert all(a.ok for a in load.answers if a.sent < stopped)
    assert any(a.ok for a in load.since(stopped)), "nothing was answered while draining"
    assert gone - stopped < 30
    acknowledged = [w.note for w in load.writes if w.acknowledged]
    assert stored_notes(acknowledged) == set(acknowledged)
