"""The dashboard's PostgreSQL view on real sessions: the monitoring role (pg_monitor only) sees
the service role's idle transaction and the session its lock blocks, with the blocker's pid."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from app.ops.postgres_panel import summarize
from infrastructure.db.activity import ActivityMonitor, ActivityUnavailable
from tests.support.server import free_port


async def test_the_monitor_sees_an_idle_transaction_and_the_session_it_blocks():
    app_url = os.environ["DATABASE_URL"]
    role = urlsplit(app_url).username or "sales_app"
    locker, waiter = psycopg2.connect(app_url), psycopg2.connect(app_url)
    monitor = ActivityMonitor(os.environ["MONITOR_DATABASE_URL"], (role,))
    blocked = threading.Thread(
        target=lambda: waiter.cursor().execute("LOCK TABLE customers IN ACCESS SHARE MODE")
    )
    try:
        locker.cursor().execute("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")
        blocked.start()
        deadline = time.monotonic() + 20
        while True:
            panel = summarize(await monitor.sessions())
            if panel["blocked"] or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        idle = panel["longest_idle_in_transaction"]
        assert idle["pid"] == locker.get_backend_pid()
        assert idle["query"] == "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"
        [waiting] = panel["blocked"]
        assert waiting["pid"] == waiter.get_backend_pid()
        assert [b["pid"] for b in waiting["blocked_by"]] == [locker.get_backend_pid()]
        assert waiting["blocked_by"][0]["state"] == "idle in transaction"
    finally:
        locker.rollback()
        blocked.join(timeout=20)
        waiter.rollback()
        locker.close()
        waiter.close()
        await monitor.close()


async def test_a_monitor_that_cannot_connect_says_why_and_tries_again_next_time():
    parts = urlsplit(os.environ["MONITOR_DATABASE_URL"])
    netloc = f"{parts.username}@127.0.0.1:{free_port()}"  # nothing listens there
    monitor = ActivityMonitor(urlunsplit(parts._replace(netloc=netloc)), ("sales_app",))
    try:
        for _ in range(2):
            with pytest.raises(ActivityUnavailable, match="OperationalError"):
                await monitor.sessions()
    finally:
        await monitor.close()
