"""Replica health without per-request probes: one poller per worker.

Every REPLICA_POLL_MS the poller reads the primary's WAL insert position and each replica's
replay position, over connections of its own (a busy read pool must not make a healthy
replica look late). A replica's lag is measured in time, from the poller's own samples of the
primary: "the primary was at or behind where the replica is now at time t" means every
transaction committed before t is visible on the replica. A replica is in the rotation while
that t is at most REPLICA_MAX_LAG ago, it answers polls, and it is still in recovery; it
leaves (and rejoins) with a log event. Reads waiting for a replica to reach a token wake the
poller early, so one probe per replica serves all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog

from infrastructure.db.finder import ServerFinder
from infrastructure.db.metrics import ReplicaMetrics
from infrastructure.db.replicas.consistency import WalGeometry, parse_lsn
from infrastructure.db.replicas.probe import Probe
from infrastructure.db.replicas.state import NOT_POLLED, PrimaryPositions, Replica

log = structlog.get_logger(__name__)

_PRIMARY_POSITION = "select pg_current_wal_insert_lsn()::text"
_GEOMETRY = (
    "select current_setting('wal_block_size')::bigint,"
    " (select setting::bigint from pg_settings where name = 'wal_segment_size')"
)
# The replay age (how long ago the last transaction it replayed committed) is the only
# staleness a replica can tell about itself: it is what is shown while the primary is gone.
_REPLAY_POSITION = (
    "select pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
    " extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
)


class ReplicaMonitor:
    """The poller of one worker: keeps each `Replica` in or out of the rotation."""

    def __init__(
        self,
        primary: ServerFinder,
        replicas: list[tuple[Replica, ServerFinder]],
        metrics: ReplicaMetrics,
        *,
        poll_s: float,
        max_lag: float,
    ) -> None:
        self.replicas = [replica for replica, _ in replicas]
        self.metrics = metrics
        self.max_lag = max_lag
        self.geometry = WalGeometry()
        self._poll_s = poll_s
        probe_timeout = max(poll_s, min(max_lag / 2, 1.0))
        self._primary = Probe(primary, probe_timeout)
        self._probes = [Probe(finder, probe_timeout) for _, finder in replicas]
        self._positions = PrimaryPositions(keep_seconds=2 * max_lag + 1)
        self._geometry_known = False
        self._wake = asyncio.Event()
        self._polled = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        for replica in self.replicas:
            metrics.up.labels(replica.name).set(0)

    async def start(self) -> None:
        """Poll once before serving, so replicas in good shape serve the first reads."""
        await self.poll_once()
        self._task = asyncio.create_task(self._run(), name="replica-monitor")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for probe in (self._primary, *self._probes):
            await probe.aclose()

    def wake(self) -> asyncio.Event:
        """Ask for a poll now; the event returned is set when a poll after this call ends."""
        self._wake.set()
        return self._polled

    def suspend(self, replica: Replica, why: str) -> None:
        """Take a replica out of rotation now (a read failed there); a good poll brings it back."""
        self._leave(replica, why)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()
            await self.poll_once()

    async def poll_once(self) -> None:
        self._wake.clear()
        polled, self._polled = self._polled, asyncio.Event()
        try:
            await self._poll()
        except Exception:  # the poller must outlive any surprise; the replicas then age out
            log.exception("replica_poll_failed")
        finally:
            polled.set()

    async def _poll(self) -> None:
        if not self._geometry_known:
            row = await self._primary.fetch(_GEOMETRY)
            if row is not None:
                self.geometry = WalGeometry(int(row[0]), int(row[1]))
                self._geometry_known = True
        # Taken before the query: every commit that finished before `started` is at or
        # behind the position the query reads.
        started = time.time()
        row = await self._primary.fetch(_PRIMARY_POSITION)
        if row is not None:
            self._positions.record(self.geometry.record_boundary(parse_lsn(row[0])), started)
        seen = await asyncio.gather(*(probe.fetch(_REPLAY_POSITION) for probe in self._probes))
        now = time.time()
        for replica, replay in zip(self.replicas, seen, strict=True):
            self._judge(replica, replay, now, primary_seen=row is not None)

    def _judge(
        self, replica: Replica, row: tuple[Any, ...] | None, now: float, *, primary_seen: bool
    ) -> None:
        if row is None:
            return self._leave(replica, "unreachable")
        in_recovery, replay, replay_age = row
        if not in_recovery:  # promoted: a primary candidate now, no longer a replica
            if not primary_seen and replica.in_rotation:
                # Until the service has found it as its primary, its reads are still the
                # freshest there are: keep serving them rather than fail them.
                return None
            return self._leave(replica, "promoted")
        if replay is None:
            return self._leave(replica, "not_replaying")
        replica.replayed = parse_lsn(replay)
        self.metrics.replay_age.labels(replica.name).set(replay_age or 0.0)
        if not primary_seen:
            return self._serve_without_primary(replica, replay_age)
        replica.without_primary = False
        caught_up_at = self._positions.caught_up_at(replica.replayed)
        if caught_up_at is not None:
            replica.caught_up_at = max(replica.caught_up_at, caught_up_at)
        latest = self._positions.latest
        caught_up = latest is not None and replica.replayed >= latest
        lag_s = 0.0 if caught_up else now - replica.caught_up_at
        self.metrics.lag_seconds.labels(replica.name).set(lag_s)
        self.metrics.lag_bytes.labels(replica.name).set(
            0 if latest is None else max(0, latest - replica.replayed)
        )
        if now - replica.caught_up_at > self.max_lag:
            return self._leave(replica, "lagging")
        self._join(replica)

    def _serve_without_primary(self, replica: Replica, replay_age: float | None) -> None:
        """The primary cannot be polled, so no lag can be measured against it: a replica that
        answers keeps serving what it has replayed (reads go on through a primary outage,
        tokens still hold them to what each client saw), and its staleness is its replay
        age. One that was already out for lagging stays out."""
        if replica.why_out == "lagging":
            return
        self.metrics.lag_seconds.labels(replica.name).set(replay_age or 0.0)
        if not replica.without_primary:
            log.warning("replica_serving_without_primary", replica=replica.name)
        replica.without_primary = True
        self._join(replica)

    def _join(self, replica: Replica) -> None:
        if not replica.in_rotation:
            replica.in_rotation = True
            self.metrics.up.labels(replica.name).set(1)
            if replica.why_out == NOT_POLLED:
                log.info("replica_in_rotation", replica=replica.name)
            else:
                log.info("replica_rejoined", replica=replica.name, after=replica.why_out)
            replica.why_out = ""

    def _leave(self, replica: Replica, why: str) -> None:
        if why == "unreachable" and replica.why_out != why:
            # Reads in flight there may wait on a dead server (or in PgBouncer's queue for it)
            # until their timeout: fail them now, and they run on the primary. Also when a
            # failed read took the replica out first: the others may still be waiting.
            replica.db.pool.reset()
        if replica.in_rotation:
            log.warning("replica_left", replica=replica.name, reason=why)
        elif replica.why_out == NOT_POLLED:
            log.warning("replica_not_in_rotation", replica=replica.name, reason=why)
        replica.in_rotation = False
        replica.without_primary = False
        replica.why_out = why
        self.metrics.up.labels(replica.name).set(0)
