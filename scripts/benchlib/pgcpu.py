"""CPU used by the PostgreSQL processes that serve one database, polled while a run goes on.

The server may be shared (other databases, other test runs): only the backends whose process
title names our database count, plus the server's background processes (titles without a
client address: checkpointer, walwriter, parallel workers...). Backends come and go (pgbench
connects and leaves), and an exited one shows no CPU, so each process's CPU is polled and
its last value kept.
"""

from __future__ import annotations

import threading
from pathlib import Path

from benchlib.proctable import TICK, process_table

_POLL_SECONDS = 0.25


def _title(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


class PostgresCpu:
    def __init__(self, postmaster: int, database: str) -> None:
        self._postmaster = postmaster
        self._database = f" {database} "
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll_until_stopped, daemon=True)

    def _ours(self, pid: int) -> bool:
        title = _title(pid)
        is_backend = "(" in title or "[local]" in title  # backends show the client address
        return self._database in title or (bool(title) and not is_backend)

    def _poll(self) -> dict[int, float]:
        table = process_table()
        seconds = {
            pid: own_ticks / TICK
            for pid, (ppid, _, own_ticks, _) in table.items()
            if ppid == self._postmaster and self._ours(pid)
        }
        for pid, value in seconds.items():
            self._last[pid] = max(value, self._last.get(pid, 0.0))
        return seconds

    def _poll_until_stopped(self) -> None:
        while not self._stop.wait(_POLL_SECONDS):
            self._poll()

    def start(self) -> None:
        self._first = self._poll()
        self._thread.start()

    def stop(self) -> float:
        """Seconds of CPU since start()."""
        self._stop.set()
        self._thread.join()
        self._poll()
        return sum(value - self._first.get(pid, 0.0) for pid, value in self._last.items())
