"""scripts/bench --reload: deploys under load. A private cluster, the service with N workers,
wrk reading on 100 keep-alive connections plus a write driver placing orders; a SIGHUP a
third of the way in and `python -m app upgrade` two thirds in. Prints what wrk counted
(requests, non-2xx, socket errors) and the writes (refused, acknowledged, lost).

Loopback only, free ports, everything removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from failover_drill import login, start_service

from tests.support.failover_pair import demo_ids
from tests.support.load_driver import LoadDriver
from tests.support.pgcluster import PgCluster, free_port

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench --reload", description=__doc__)
    parser.add_argument("--reload", action="store_true", help="(selects this benchmark)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=30, help="seconds of wrk (30)")
    parser.add_argument("--connections", type=int, default=100, help="wrk connections (100)")
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    base = Path(tempfile.mkdtemp(prefix="sales-reload-bench-"))
    base.chmod(0o755)  # as root, the postgres account must enter it
    cluster = PgCluster(base)
    try:
        cluster.create()
        return asyncio.run(bench(cluster, wrk, args))
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


async def bench(cluster: PgCluster, wrk: str, args: argparse.Namespace) -> int:
    port = free_port()
    log = cluster.root / "service.log"
    database = {"DATABASE_URL": cluster.url(), "MIGRATION_DATABASE_URL": cluster.url("sales_owner")}
    # In a group of its own: the manager the upgrade starts joins it, and one killpg stops both.
    manager = start_service(database, port, args.workers, log, own_group=True)
    try:
        url = f"http://127.0.0.1:{port}"
        headers = await login(url)
        customer, product = demo_ids(cluster)
        load = LoadDriver(url, headers, customer, product, writers=args.writers, readers=0)
        command = [wrk, "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
        command += [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
        async with load:
            reads = await asyncio.create_subprocess_exec(
                *command, f"{url}/api/sales/products?limit=5", stdout=asyncio.subprocess.PIPE
            )
            await asyncio.sleep(args.duration / 3)
            print(f"SIGHUP to {manager.pid}", file=sys.stderr)
            manager.send_signal(signal.SIGHUP)
            await asyncio.sleep(args.duration / 3)
            print("python -m app upgrade", file=sys.stderr)
            upgrade = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app", "upgrade", "--pid", str(manager.pid), cwd=ROOT
            )
            upgraded = await upgrade.wait()
            out, _ = await reads.communicate()
        report(out.decode(), load, cluster, upgraded)
        return 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(manager.pid, signal.SIGTERM)  # the new manager is in its group
        await asyncio.sleep(2)  # let the managers drain and exit before the cluster goes
        print(f"service log: {log} (removed with the cluster)", file=sys.stderr)


def report(wrk_out: str, load: LoadDriver, cluster: PgCluster, upgraded: int) -> None:
    total = re.search(r"(\d+) requests in", wrk_out)
    socket = re.search(r"Socket errors: (.*)", wrk_out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk_out)
    acknowledged = [w.note for w in load.writes if w.acknowledged]
    rows = cluster.query("select note from orders where note = any(%s)", (acknowledged,))
    lost = set(acknowledged) - {row[0] for row in rows}
    writes = [a for a in load.answers if a.kind == "write"]
    print(wrk_out)
    print(f"upgrade command exit status: {upgraded}")
    print(f"wrk reads:            {total.group(1) if total else '?'}")
    print(f"wrk non-2xx:          {non_2xx.group(1) if non_2xx else 0}")
    print(f"wrk socket errors:    {socket.group(1) if socket else 'none'}")
    print(f"writes:               {len(writes)}, failed {sum(not a.ok for a in writes)}")
    print(f"acknowledged writes:  {len(acknowledged)}, lost {len(lost)}")


if __name__ == "__main__":
    sys.exit(main())
