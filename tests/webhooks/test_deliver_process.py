"""`python -m app deliver` as real processes: killed mid-batch and restarted, nothing is lost;
two at once never call one endpoint twice at the same time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.server import ROOT, free_port
from tests.webhooks.conftest import KEY, verified
from tests.webhooks.test_delivery import admin, customers, endpoint, first_arrivals, until

pytestmark = pytest.mark.slow


@contextmanager
def deliver_process(log_path: Path, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "WEBHOOK_SECRET_KEY": KEY,
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "WEBHOOK_TIMEOUT": "1",
        "WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2,0.2,0.2,0.2,0.2",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        **extra,
    }
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "deliver"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


async def test_a_deliverer_killed_mid_batch_loses_nothing_once_another_runs(
    api, receiver, tenant, seeder, tmp_path
):
    headers = admin(seeder, tenant)
    hook = await endpoint(api, headers, receiver.url())
    made = await customers(api, headers, 10)
    receiver.delay = 0.2  # slow enough to be killed with most of its batch unsent
    with deliver_process(tmp_path / "first.log") as first:
        await until(lambda: len(receiver.delivered) >= 3, what="the first deliveries")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert len(receiver.delivered) < 10, "killed mid-batch"
    port = free_port()
    with deliver_process(tmp_path / "second.log", DELIVER_METRICS_PORT=str(port)):
        await until(lambda: len(first_arrivals(hook["secret"], receiver.delivered)) == 10)
        metrics = await asyncio.to_thread(_scrape, f"http://127.0.0.1:{port}/metrics")
    assert first_arrivals(hook["secret"], receiver.delivered) == made
    assert 'webhook_deliveries_total{outcome="succeeded"}' in metrics
    logged = (tmp_path / "second.log").read_text()
    assert '"event":"webhook_delivered"' in logged and hook["secret"] not in logged


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read().decode()


async def test_two_deliverers_never_call_one_endpoint_twice_at_once(
    api, receiver, tenant, seeder, tmp_path
):
    headers = admin(seeder, tenant)
    hooks = [await endpoint(api, headers, receiver.url(f"/hook{n}")) for n in range(3)]
    made = await customers(api, headers, 8)
    receiver.delay = 0.05
    with deliver_process(tmp_path / "a.log"), deliver_process(tmp_path / "b.log"):
        await until(lambda: len(receiver.delivered) >= 24, what="8 events to 3 endpoints")
    assert receiver.overlaps == []
    for n, hook in enumerate(hooks):
        calls = [c for c in receiver.delivered if c.path == f"/hook{n}"]
        ids = [verified(hook["secret"], c)["data"]["id"] for c in calls]
        assert ids == made and max(Counter(ids).values()) == 1
