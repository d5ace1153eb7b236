"""What the failover tests read off a running service and its clusters."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families

from tests.faults.service import Service
from tests.support.load_driver import Timed
from tests.support.pgcluster import PgCluster


async def metric(service: Service, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels` (0 when absent)."""
    total = 0.0
    for family in text_string_to_metric_families(await service.metrics_text()):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def wait_streaming(primary: PgCluster, sync: bool = False, timeout: float = 30) -> None:
    """Until the primary has a standby streaming to it (as a synchronous one, if asked)."""
    deadline = time.monotonic() + timeout
    wanted = ("sync",) if sync else ("sync", "async", "potential", "quorum")
    while True:
        rows = primary.query("select state, sync_state from pg_stat_replication")
        if any(state == "streaming" and mode in wanted for state, mode in rows):
            return
        assert time.monotonic() < deadline, f"no standby streaming after {timeout}s: {rows}"
        time.sleep(0.05)


def notes_stored(cluster: PgCluster, notes: list[str]) -> dict[str, int]:
    rows = cluster.query(
        "select note, count(*) from orders where note = any(%s) group by note", (notes,)
    )
    return dict(rows)


def describe(answers: list[Timed]) -> str:
    return ", ".join(
        f"{a.kind} {a.status or a.error} {a.problem or ''} {a.took:.2f}s" for a in answers[:20]
    )
