"""The failover drill (scripts/failover-drill): a private primary and a streaming standby,
the service on a multi-host DATABASE_URL under a bounded read + write load, the primary
stopped (`pg_ctl stop -m immediate`), the standby promoted; then a timeline per 250 ms and a
summary: seconds without writes, failed reads, acknowledged writes lost.

Loopback only, free ports, everything removed at the end. The clusters are the test suite's
(tests/support/failover_pair.py), so the drill needs the server binaries the tests need.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from infrastructure.seed import DEMO_PASSWORD
from tests.support.failover_pair import Pair, demo_ids, new_pair
from tests.support.load_driver import LoadDriver, Timed, timeline
from tests.support.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/failover-drill", description=__doc__)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--before", type=float, default=3.0, help="seconds of load first (3)")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds until promotion (3)")
    parser.add_argument("--after", type=float, default=5.0, help="seconds after it (5)")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument(
        "--async-replication",
        action="store_true",
        help="leave replication asynchronous (acknowledged writes may then be lost)",
    )
    args = parser.parse_args()
    with contextmanager(new_pair)() as pair:
        if not args.async_replication:
            pair.synchronous()
        return asyncio.run(drill(pair, args))


async def drill(pair: Pair, args: argparse.Namespace) -> int:
    port = free_port()
    log = Path(pair.base / "service.log")
    database = {
        "DATABASE_URL": pair.multi_host_url(),
        "MIGRATION_DATABASE_URL": pair.primary.url("sales_owner"),
        "DATABASE_REPLICA_URLS": pair.standby.url(),
        "CONSISTENCY_TOKEN_SECRET": secrets.token_urlsafe(32),
    }
    service = start_service(database, port, args.workers, log)
    try:
        base = f"http://127.0.0.1:{port}"
        headers = await login(base)
        customer, product = demo_ids(pair.primary)
        load = LoadDriver(
            base, headers, customer, product,
            writers=args.writers, readers=args.readers, max_requests=200_000,
        )  # fmt: skip
        async with load:
            started = time.monotonic()
            await asyncio.sleep(args.before)
            stopped = time.monotonic()
            await asyncio.to_thread(pair.primary._pg_ctl, "stop", "-m", "immediate")
            await asyncio.sleep(args.outage)
            promoted = time.monotonic()
            await asyncio.to_thread(pair.promote)
            await asyncio.sleep(args.after)
        report(load, pair, started, stopped, promoted)
        return 0
    finally:
        service.send_signal(signal.SIGTERM)
        try:
            service.wait(timeout=30)
        except subprocess.TimeoutExpired:
            service.kill()
        print(f"service log: {log} (removed with the clusters)", file=sys.stderr)


def start_service(
    database: dict[str, str], port: int, workers: int, log: Path, *, own_group: bool = False
) -> subprocess.Popen[bytes]:
    """`python -m app --workers N` on 127.0.0.1:`port` with the `database` settings, writing
    its output to `log`; `own_group` starts it in a process group of its own."""
    env = {
        **os.environ,
        **database,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ADMIN_PORT": str(free_port()),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as out:
        command = [sys.executable, "-m", "app", "--workers", str(workers)]
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=own_group
        )


async def login(base: str) -> dict[str, str]:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession(base) as session:
        while True:
            try:
                async with session.post(
                    "/api/sales/auth/login",
                    json={"email": "alice@acme.test", "password": DEMO_PASSWORD},
                    headers={"X-Tenant": "acme"},
                ) as resp:
                    if resp.status == 200:
                        token = (await resp.json())["token"]
                        return {"X-Tenant": "acme", "Authorization": f"Bearer {token}"}
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the service did not start within 30 s")
            await asyncio.sleep(0.2)


def report(load: LoadDriver, pair: Pair, started: float, stopped: float, promoted: float) -> None:
    print(f"timeline (t = 0: primary stopped; promoted at t = {promoted - stopped:.2f} s)")
    for line in timeline(load.answers, start=stopped - 1.0, zero=stopped):
        print(line)
    # The longest stretch from the stop on with no write acknowledged.
    acks = sorted(a.sent + a.took for a in load.answers if a.kind == "write" and a.ok)
    last_before = max((t for t in acks if t < stopped), default=started)
    around = [last_before, *(t for t in acks if t >= stopped), time.monotonic()]
    gap = max(b - a for a, b in itertools.pairwise(around))
    reads = [a for a in load.answers if a.kind == "read"]
    failed_reads = [a for a in reads if not a.ok]
    acknowledged = [w.note for w in load.writes if w.acknowledged]
    rows = pair.standby.query("select note from orders where note = any(%s)", (acknowledged,))
    lost = set(acknowledged) - {row[0] for row in rows}
    print()
    print(f"seconds without writes:     {gap:.2f}")
    print(
        f"reads:                      {len(reads)}, failed {len(failed_reads)} {_kinds(failed_reads)}"
    )
    writes = [a for a in load.answers if a.kind == "write"]
    print(
        f"writes:                     {len(writes)}, refused {sum(not a.ok for a in writes)} {_kinds(writes)}"
    )
    print(f"acknowledged writes:        {len(acknowledged)}, lost {len(lost)}")


def _kinds(answers: list[Timed]) -> str:
    kinds: dict[str, int] = {}
    for a in answers:
        if not a.ok:
            key = a.problem or a.error or str(a.status)
            kinds[key] = kinds.get(key, 0) + 1
    return str(kinds) if kinds else ""


if __name__ == "__main__":
    sys.exit(main())
