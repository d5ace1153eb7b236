"""Routing tenant-scoped reads between the primary and hot standbys.

A read goes to a replica in rotation (health.py) that has replayed at least as far as
the request's Consistency-Token (consistency.py); if none has, the read waits up to
REPLICA_WAIT_MS for one (waking the poller) and then runs on the primary. Commands' reads and
reads outside a request always run on the primary. A read that fails on a replica (connection
lost, pool dry, statement cancelled by recovery) runs once more on the primary: reads are
idempotent, and a replica outage must never reach the client. The same one-trip read runs on
either server unchanged. While the primary is unreachable, replicas keep serving (their
poller judges them by their replay age then), and a read whose token is ahead of all of them
gets 503 consistency-unavailable at once.
"""

from __future__ import annotations

import asyncio
import time

from infrastructure.db.database import Database
from infrastructure.db.errors import (
    ConsistencyUnavailable,
    DatabaseUnavailable,
    TransientConflict,
)
from infrastructure.db.reads import Params, Row, read_on, read_once
from infrastructure.db.replicas.consistency import current_consistency
from infrastructure.db.replicas.health import ReplicaMonitor
from infrastructure.db.replicas.state import Replica
from infrastructure.tracing import annotate


class ReplicaReads:
    """The `ReadRunner` of TenantReads when replicas are configured."""

    def __init__(self, primary: Database, monitor: ReplicaMonitor, *, wait_s: float) -> None:
        self._primary = primary
        self._monitor = monitor
        self._replicas = monitor.replicas
        self._max_lag = monitor.max_lag
        self._wait_s = wait_s
        self._next = 0  # round robin
        metrics = monitor.metrics
        self._on_primary = metrics.reads_by_target.labels("primary")
        self._on_replica = metrics.reads_by_target.labels("replica")
        self._served = {r.name: metrics.reads.labels(r.name) for r in self._replicas}
        self._fallbacks = metrics.fallbacks

    async def read(self, text: str, params: Params) -> list[Row]:
        ctx = current_consistency.get()
        if ctx is None or ctx.primary_only:
            self._on_primary.inc()
            return await read_on(self._primary, text, params)
        need = ctx.after_lsn
        if need is not None:
            need = self._monitor.geometry.record_boundary(need)
        replica = self._pick(need)
        if replica is None:
            replica = await self._wait_for(need) if need is not None else None
        if replica is None:
            if need is not None and not self._primary.available:
                # Nowhere to read what this client saw: say so now, not after a timeout.
                raise ConsistencyUnavailable()
            return await self._on_primary_because(self._why_not(need), text, params)
        annotate(**{"sales.read.target": "replica", "sales.replica": replica.name})
        try:
            rows = await read_once(replica.db, text, params)
        except (DatabaseUnavailable, TransientConflict):
            self._monitor.suspend(replica, "read_failed")
            return await self._on_primary_because("error", text, params)
        self._on_replica.inc()
        self._served[replica.name].inc()
        ctx.on_replica = True
        return rows

    def _pick(self, need: int | None) -> Replica | None:
        """The next usable replica (round robin) that has replayed `need`, if any."""
        now = time.time()
        count = len(self._replicas)
        for step in range(count):
            replica = self._replicas[(self._next + step) % count]
            if replica.usable(now, self._max_lag) and (need is None or replica.replayed >= need):
                self._next = (self._next + step + 1) % count
                return replica
        return None

    async def _wait_for(self, need: int) -> Replica | None:
        """Wait up to REPLICA_WAIT_MS for a replica in rotation to replay `need`."""
        now = time.time()
        if not any(r.usable(now, self._max_lag) for r in self._replicas):
            return None  # nothing to wait for
        deadline = time.monotonic() + self._wait_s
        while (remaining := deadline - time.monotonic()) > 0:
            polled = self._monitor.wake()
            try:
                async with asyncio.timeout(remaining):
                    await polled.wait()
            except TimeoutError:
                return None
            replica = self._pick(need)
            if replica is not None:
                return replica
        return None

    def _why_not(self, need: int | None) -> str:
        now = time.time()
        if need is not None and any(r.usable(now, self._max_lag) for r in self._replicas):
            return "token_ahead"
        if any(r.why_out == "lagging" for r in self._replicas):
            return "lagging"
        return "no_replica"

    async def _on_primary_because(self, reason: str, text: str, params: Params) -> list[Row]:
        self._fallbacks.labels(reason).inc()
        self._on_primary.inc()
        annotate(**{"sales.read.target": "primary", "sales.replica_fallback": reason})
        return await read_on(self._primary, text, params)
