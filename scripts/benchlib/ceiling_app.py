"""The stack's own ceiling: aiohttp with nothing of the service in it.

    python scripts/benchlib/ceiling_app.py http PORT            # no database at all
    python scripts/benchlib/ceiling_app.py sql PORT SCRIPT URL POOL PROCESSES

`http` answers every GET with a fixed 20-item JSON page: what aiohttp (with uvloop, orjson)
costs per request on this machine. `sql` sends, per GET, the two queries of one `read`
request exactly as pgbench runs them (taken from the same pgbench script, random tenant and
session), over the service's own pool and statement path (open_pool, run_statement) with
POOL connections, behind a read gate sized as the service sizes it for PROCESSES workers, and
answers with the rows: the floor of what the driver plus the HTTP stack cost, with no
routing, middleware, auth logic, schemas or metrics. The service cannot beat this, so it says how far the 0.6 x pgbench target is
reachable with this stack on this machine.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from app.edge.admission import AdmissionGate
from app.runtime.config import read_places, usable_cores
from infrastructure.db.database import open_pool
from infrastructure.db.statement import run_statement

PAGE = orjson.dumps({"items": [{"id": i, "name": f"Customer {i}"} for i in range(20)]})


def read_requests(script: Path) -> tuple[list[list[str]], range]:
    """Per tenant, the statements of one read request; and the range of session numbers."""
    tenants: list[list[str]] = []
    sessions = range(0)
    for line in script.read_text().splitlines():
        found = re.match(r"\\set sid random\((\d+), (\d+)\)", line)
        if found:
            sessions = range(int(found.group(1)), int(found.group(2)) + 1)
        elif line.startswith(("\\if", "\\elif")):
            tenants.append([])
        elif line.startswith("select"):
            tenants[-1].append(line.rstrip(";").replace("\\;", ";"))
    return tenants, sessions


async def http_app() -> web.Application:
    async def page(_: web.Request) -> web.Response:
        return web.Response(body=PAGE, content_type="application/json")

    app = web.Application()
    app.router.add_get("/", page)
    return app


async def sql_app(script: Path, url: str, size: int, processes: int) -> web.Application:
    tenants, sessions = read_requests(script)
    pool = open_pool(url, size, connect_timeout=30)
    gate = AdmissionGate(read_places(processes, usable_cores()), max_queued=1_000_000)

    async def page(request: web.Request) -> web.Response:
        await gate.enter()
        try:
            return await rows_of_one_read(request)
        finally:
            gate.leave()

    async def rows_of_one_read(_: web.Request) -> web.Response:
        sid = str(random.choice(sessions))
        rows: list[tuple[object, ...]] = []
        for statement in random.choice(tenants):
            conn = await pool.acquire()
            try:
                rows = await run_statement(conn, statement.replace(":sid", sid), None, 30)
            finally:
                pool.release(conn)
        return web.Response(body=orjson.dumps(rows, default=str), content_type="application/json")

    async def close(_: web.Application) -> None:
        pool.terminate()

    app = web.Application()
    app.router.add_get("/", page)
    app.on_cleanup.append(close)
    return app


def main(argv: list[str]) -> None:
    mode, port = argv[0], int(argv[1])
    try:
        import uvloop

        uvloop.install()  # as the service does when installed with [speed]
    except ImportError:
        pass
    app = (
        http_app()
        if mode == "http"
        else sql_app(Path(argv[2]), argv[3], int(argv[4]), int(argv[5]))
    )
    # reuse_port: scripts/bench starts one copy per worker on the same port, like the service.
    web.run_app(app, host="127.0.0.1", port=port, reuse_port=True, access_log=None, print=None)


if __name__ == "__main__":
    main(sys.argv[1:])
