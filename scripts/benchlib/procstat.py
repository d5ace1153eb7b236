"""CPU used during a run, per party: the service, PostgreSQL, PgBouncer, the load generator,
and whatever else ran on the machine meanwhile."""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchlib.pgcpu import PostgresCpu
from benchlib.proctable import TICK, process_table, tree


def _machine() -> tuple[float, float]:
    """CPU seconds of all cores from /proc/stat: (processes, interrupts). Interrupt time is
    mostly the kernel moving our loopback traffic (softirq) and is charged to no process;
    steal and idle are not ours at all."""
    user, nice, system, _idle, _iowait, irq, softirq = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]
    )
    return (user + nice + system) / TICK, (irq + softirq) / TICK


@dataclass(frozen=True, slots=True)
class CpuSources:
    """What to measure: label -> root pids of process trees (service, pgbouncer), and the
    PostgreSQL server (postmaster pid, our database) when it runs on this machine."""

    trees: dict[str, list[int]] = field(default_factory=dict)
    postgres: tuple[int, str] | None = None

    def plus(self, label: str, root: int) -> CpuSources:
        return CpuSources({label: [root], **self.trees}, self.postgres)


class CpuMeter:
    """CPU per label between start() and percent(): the sources, our reaped children (wrk
    or pgbench: they have exited by percent()), this harness (bench), interrupts (softirq),
    the whole machine, and `other` = every other process."""

    def __init__(self, sources: CpuSources, children_label: str = "wrk") -> None:
        self._trees = sources.trees
        self._postgres = PostgresCpu(*sources.postgres) if sources.postgres else None
        self._children_label = children_label
        self._first: dict[str, float] = {}
        self._started = 0.0

    def _sample(self) -> dict[str, float]:
        table = process_table()
        seconds = {
            label: sum(sum(table[pid][2:]) for root in roots for pid in tree(table, root)) / TICK
            for label, roots in self._trees.items()
        }
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds[self._children_label] = children.ru_utime + children.ru_stime
        us = resource.getrusage(resource.RUSAGE_SELF)  # this harness: scrapes, /proc polls
        seconds["bench"] = us.ru_utime + us.ru_stime
        seconds["machine"], seconds["softirq"] = _machine()
        return seconds

    def start(self) -> None:
        self._started = time.monotonic()
        self._first = self._sample()
        if self._postgres is not None:
            self._postgres.start()

    def percent(self) -> dict[str, float]:
        """CPU per label since start(), as percent of one core (200 = two cores busy)."""
        wall = time.monotonic() - self._started
        last = self._sample()
        used = {k: 100 * (last[k] - self._first[k]) / wall for k in last}
        if self._postgres is not None:
            used["postgres"] = 100 * self._postgres.stop() / wall
        # Processes that are none of ours (other databases count too): a large value means
        # the run shared the machine and its numbers are noisy.
        ours = sum(v for k, v in used.items() if k not in ("machine", "softirq"))
        used["other"] = max(0.0, used["machine"] - ours)
        used["machine"] += used["softirq"]
        return {k: round(v, 1) for k, v in used.items()}
