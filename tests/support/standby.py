"""A real streaming hot standby of a private primary, for tests of read replicas.

The primary is a `PgCluster` (pgcluster.py: initdb with trust auth on a free loopback port,
provisioned, migrated and seeded); the standby is cloned from it with
`pg_basebackup -R -X stream` through a replication slot and runs beside it on another free port
with hot_standby=on. initdb's own pg_hba.conf already lets local replication connections in (the
`host replication all 127.0.0.1/32 trust` line), so nothing relies on the machine's PostgreSQL.

    with running_primary_and_standby() as standby:
        write(standby.primary_app_url)
        standby.wait_caught_up()
        read(standby.standby_app_url)

or, beside an existing running PgCluster: `s = Standby(cluster, some_dir); s.create(); ...;
s.destroy()` (its replication slot is dropped again).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.support.pgcluster import _AS_ROOT, SUPERUSER, PgCluster

# Explicit although they are PostgreSQL's defaults since 10: a standby needs them on the primary.
PRIMARY_SETTINGS = {"wal_level": "replica", "max_wal_senders": "4", "max_replication_slots": "4"}
STANDBY_SETTINGS = {"hot_standby": "on"}


def _lsn(text: str) -> int:
    """'16/B374D848' -> an integer, so LSNs compare and subtract in Python."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


class Standby(PgCluster):
    """A hot standby of `primary` (a running PgCluster). `create()` clones and starts it and
    waits until it has replayed everything the primary had written; `destroy()` stops it."""

    def __init__(self, primary: PgCluster, preferred_dir: Path) -> None:
        # Made after the primary is listening, so free_port() cannot hand out its port again.
        super().__init__(preferred_dir, settings=STANDBY_SETTINGS)
        self.primary = primary
        self.slot = f"sales_standby_{self.port}"

    # ---- lifecycle ------------------------------------------------------------------------

    def create(self) -> None:
        """pg_basebackup from the primary (it writes standby.signal and primary_conninfo),
        start, wait until caught up. A slot keeps the WAL the standby still needs, even while
        it is stopped."""
        if _AS_ROOT:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            self._tool("pg_basebackup"), "-D", str(self.data), "-h", "127.0.0.1",
            "-p", str(self.primary.port), "-U", SUPERUSER, "-R", "-X", "stream",
            "-C", "-S", self.slot, "-c", "fast", "--no-sync", "--no-manifest",
        )  # fmt: skip
        self._run("mkdir", "-p", str(self.socket_dir))
        self.start_standby()

    def start_standby(self, catch_up: bool = True, timeout: float = 30) -> None:
        """Start (pg_ctl waits until it accepts read-only connections); then, unless
        `catch_up` is false, wait until it has replayed up to the primary's current LSN."""
        self.start()
        if not self.query("select pg_is_in_recovery()")[0][0]:
            raise RuntimeError(f"the standby on port {self.port} is not in recovery")
        if catch_up:
            self.wait_caught_up(timeout)

    def destroy(self) -> None:
        """Stop the standby, then drop its slot, which would hold WAL on the primary forever."""
        super().destroy()
        if self.primary.data.exists() and self.primary.running:
            self.primary.query(
                "select pg_drop_replication_slot(slot_name) from pg_replication_slots"
                " where slot_name = %s",
                (self.slot,),
            )

    def stop_standby(self, mode: str = "immediate") -> None:
        """pg_ctl stop -m immediate (like a crash: the next start recovers), fast or smart."""
        self._pg_ctl("stop", "-m", mode)

    # ---- URLs -----------------------------------------------------------------------------

    @property
    def primary_app_url(self) -> str:
        return self.primary.url()

    @property
    def standby_app_url(self) -> str:
        return self.url()

    @property
    def primary_superuser_url(self) -> str:
        return self.primary.url(SUPERUSER)

    @property
    def standby_superuser_url(self) -> str:
        return self.url(SUPERUSER)

    # ---- replication ----------------------------------------------------------------------

    def primary_lsn(self) -> int:
        """Where the primary has written WAL up to (pg_current_wal_lsn)."""
        return _lsn(self.primary.query("select pg_current_wal_lsn()::text")[0][0])

    def replay_lsn(self) -> int:
        """Where the standby has replayed WAL up to: what its queries see."""
        return _lsn(self.query("select pg_last_wal_replay_lsn()::text")[0][0])

    def receive_lsn(self) -> int | None:
        """Where the standby has received (and flushed) WAL up to; None before streaming."""
        text = self.query("select pg_last_wal_receive_lsn()::text")[0][0]
        return None if text is None else _lsn(text)

    def pause_replay(self) -> None:
        """pg_wal_replay_pause(): WAL still arrives, but nothing written on the primary after
        this returns becomes visible on the standby until `resume_replay()`. (The pause state
        only turns from 'pause requested' to 'paused' once there is a record to hold back.)"""
        self.query("select pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.query("select pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Wait until the standby has replayed up to the primary's current LSN."""
        target = self.primary_lsn()
        self._wait(lambda: self.replay_lsn() >= target, timeout, f"replayed up to {target:X}")

    def wait_received(self, timeout: float = 30) -> None:
        """Wait until the standby has received the primary's current WAL (it may not have
        replayed it: e.g. while replay is paused)."""
        target = self.primary_lsn()

        def received() -> bool:
            lsn = self.receive_lsn()
            return lsn is not None and lsn >= target

        self._wait(received, timeout, f"received up to {target:X}")

    # ---- internals ------------------------------------------------------------------------

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                state = self.query(
                    "select pg_get_wal_replay_pause_state(), pg_last_wal_receive_lsn()::text,"
                    " pg_last_wal_replay_lsn()::text"
                )[0]
                log = self.logfile.read_text()[-3000:] if self.logfile.exists() else ""
                raise TimeoutError(
                    f"standby not {what} after {timeout}s (replay pause state, received,"
                    f" replayed: {state}); standby log:\n{log}"
                )
            time.sleep(0.02)


@contextmanager
def running_primary_and_standby() -> Iterator[Standby]:
    """A provisioned, migrated and seeded private primary and a caught-up hot standby of it;
    both are stopped and their directories removed afterwards, however the block ends."""
    with primary_and_standby_in("sales-standby-") as (_, standby, _base):
        yield standby


@contextmanager
def primary_and_standby_in(prefix: str) -> Iterator[tuple[PgCluster, Standby, Path]]:
    """The same, with the directory both live in (for logs beside them)."""
    with ExitStack() as cleanup:  # on the way out: standby, primary, then the directories
        base = Path(tempfile.mkdtemp(prefix=prefix))
        cleanup.callback(shutil.rmtree, base, ignore_errors=True)
        # mkdtemp makes it 0700: as root, the postgres account must be able to enter it.
        base.chmod(0o755)
        (base / "primary").mkdir()
        (base / "standby").mkdir()
        primary = PgCluster(base / "primary", settings=PRIMARY_SETTINGS)
        cleanup.callback(primary.destroy)
        primary.create()
        standby = Standby(primary, base / "standby")
        cleanup.callback(standby.destroy)
        standby.create()
        yield primary, standby, base
