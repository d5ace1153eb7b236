"""What PostgreSQL itself sees of the service: its sessions in pg_stat_activity, who waits on
a lock and who holds it (pg_blocking_pids), read on a connection of its own, never the pool.

The connection's role needs only pg_monitor (MONITOR_DATABASE_URL; scripts/lib/common.sh
provisions `sales_monitor`): with less, PostgreSQL hides other roles' queries. It opens on the
first read and is opened afresh after a failure; each read is one statement with a 2 s limit.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiopg
import psycopg2

_ACTIVITY = """
SELECT pid, usename, state, wait_event_type, wait_event,
       extract(epoch FROM now() - state_change)::float8 AS state_age,
       extract(epoch FROM now() - xact_start)::float8 AS xact_age,
       extract(epoch FROM now() - query_start)::float8 AS query_age,
       left(query, %(query_chars)s) AS query,
       CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END AS blocked_by
  FROM pg_stat_activity
 WHERE datname = current_database()
   AND usename = ANY(%(roles)s)
   AND pid <> pg_backend_pid()
 ORDER BY pid
"""
_COLUMNS = (
    "pid",
    "role",
    "state",
    "wait_event_type",
    "wait_event",
    "state_age",
    "xact_age",
    "query_age",
    "query",
    "blocked_by",
)


class ActivityUnavailable(Exception):
    """The monitoring connection could not read pg_stat_activity (down, refused, too slow)."""


class ActivityMonitor:
    def __init__(self, dsn: str, roles: tuple[str, ...], query_chars: int = 2000) -> None:
        self._dsn = dsn
        self._roles = list(roles)
        self._query_chars = query_chars
        self._conn: aiopg.Connection | None = None

    async def sessions(self) -> list[dict[str, Any]]:
        """Every session of the service's roles in this database, one dict per backend."""
        try:
            async with asyncio.timeout(5.0):
                conn = await self._connection()
                async with conn.cursor() as cur:
                    await cur.execute(
                        _ACTIVITY, {"roles": self._roles, "query_chars": self._query_chars}
                    )
                    rows = await cur.fetchall()
        except (psycopg2.Error, OSError, TimeoutError, RuntimeError) as exc:
            self._drop()
            raise ActivityUnavailable(f"{type(exc).__name__}: {exc}".strip()) from exc
        except BaseException:  # cancelled mid-statement: the session's state is unknown
            self._drop()
            raise
        return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]

    async def close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()  # aiopg closes at once; the future it returns has nothing to wait for

    async def _connection(self) -> aiopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = await aiopg.connect(
                self._dsn,
                timeout=5.0,
                enable_json=False,
                enable_hstore=False,
                enable_uuid=False,
                application_name="sales-api-monitor",
                options="-c statement_timeout=2000",
            )
        return self._conn
