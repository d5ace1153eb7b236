"""Which server a read goes to, and how lag is measured, with the poller's state set by hand
(no database: the replicas here never receive a statement)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry

from infrastructure.db.finder import find_servers
from infrastructure.db.metrics import ReplicaMetrics
from infrastructure.db.replicas.health import ReplicaMonitor
from infrastructure.db.replicas.routing import ReplicaReads
from infrastructure.db.replicas.state import PrimaryPositions, Replica


def name_of(replica: Replica | None) -> str | None:
    return None if replica is None else replica.name


def test_lag_is_how_long_ago_the_primary_was_where_the_replica_is() -> None:
    positions = PrimaryPositions(keep_seconds=10)
    positions.record(100, at=1.0)
    positions.record(100, at=2.0)  # idle: the same position seen later
    positions.record(200, at=3.0)
    assert positions.caught_up_at(150) == 2.0
    assert positions.caught_up_at(200) == 3.0
    assert positions.caught_up_at(99) is None
    assert positions.latest == 200


def test_old_samples_are_forgotten_but_the_latest_is_kept() -> None:
    positions = PrimaryPositions(keep_seconds=1)
    positions.record(100, at=1.0)
    positions.record(200, at=5.0)
    assert positions.caught_up_at(150) is None
    positions.record(200, at=50.0)
    assert positions.caught_up_at(200) == 50.0


def _router(*names: str, max_lag: float = 1.0) -> tuple[ReplicaReads, list[Replica]]:
    replicas = [Replica(name, db=None) for name in names]  # type: ignore[arg-type]
    monitor = ReplicaMonitor(
        find_servers("postgresql://primary/sales", 1.0),
        [(r, find_servers(f"postgresql://{r.name}/sales", 1.0)) for r in replicas],
        ReplicaMetrics(CollectorRegistry()),
        poll_s=0.1,
        max_lag=max_lag,
    )
    return ReplicaReads(None, monitor, wait_s=0.05), replicas  # type: ignore[arg-type]


def _in_rotation(replica: Replica, replayed: int, seconds_ago: float = 0.0) -> None:
    replica.in_rotation = True
    replica.replayed = replayed
    replica.caught_up_at = time.time() - seconds_ago


def test_reads_take_turns_over_the_replicas_in_rotation() -> None:
    router, (a, b) = _router("a", "b")
    _in_rotation(a, 100)
    _in_rotation(b, 100)
    assert [name_of(router._pick(None)) for _ in range(4)] == ["a", "b", "a", "b"]


def test_a_token_is_served_only_by_a_replica_that_replayed_past_it() -> None:
    router, (a, b) = _router("a", "b")
    _in_rotation(a, 100)
    _in_rotation(b, 300)
    assert {name_of(router._pick(200)) for _ in range(4)} == {"b"}
    assert router._pick(301) is None
    assert router._why_not(301) == "token_ahead"


def test_a_replica_whose_polls_stopped_ages_out_of_rotation_by_itself() -> None:
    router, (a,) = _router("a", max_lag=1.0)
    _in_rotation(a, 100, seconds_ago=1.5)
    assert router._pick(None) is None


def test_no_replica_in_rotation_is_told_apart_from_a_lagging_one() -> None:
    router, (a,) = _router("a")
    assert router._why_not(None) == "no_replica"
    a.why_out = "lagging"
    assert router._why_not(None) == "lagging"


def test_while_the_primary_cannot_be_polled_a_replica_that_answers_keeps_serving() -> None:
    router, (a,) = _router("a")
    _in_rotation(a, 100, seconds_ago=30)  # the primary was last seen long ago
    router._monitor._judge(a, (True, "0/C8", 4.5), time.time(), primary_seen=False)
    assert a.in_rotation and a.without_primary
    assert router._pick(None) is a


def test_a_replica_already_out_for_lagging_stays_out_while_the_primary_is_gone() -> None:
    router, (a,) = _router("a")
    a.why_out = "lagging"
    router._monitor._judge(a, (True, "0/C8", 60.0), time.time(), primary_seen=False)
    assert not a.in_rotation and router._pick(None) is None


def test_a_promoted_replica_serves_until_the_service_follows_it_as_primary_then_leaves() -> None:
    router, (a,) = _router("a")
    _in_rotation(a, 100)
    router._monitor._judge(a, (False, "0/C8", None), time.time(), primary_seen=False)
    assert a.in_rotation, "its reads are the freshest there are while no primary is known"
    router._monitor._judge(a, (False, "0/C8", None), time.time(), primary_seen=True)
    assert not a.in_rotation and a.why_out == "promoted"
